"""How a saved run ended, in one line: why training stopped and which epoch the saved model is. No gradio.

Built from run.json alone, so the page says the same words while it watches the job and after a reload.
"""

from __future__ import annotations

import html
from typing import Any


def _epoch_number(value: Any) -> int | None:
    try:
        return int(round(float(value)))
    except (TypeError, ValueError):
        return None


def kept_epoch(info: dict[str, Any]) -> int | None:
    """The epoch whose weights were saved (1-based); None for a run without per-epoch history."""
    history = info.get("history") or []
    if not history:
        return None
    stopped = info.get("stopped_early") or {}
    if stopped:  # "Stop, keep best epoch": training recorded which one it went back to
        return _epoch_number(stopped.get("kept_epoch")) or len(history)
    if ((info.get("params") or {}).get("early_stopping_patience") or 0) > 0:
        # load_best_model_at_end with metric_for_best_model=f1_macro: the first epoch with the best macro-F1
        # (transformers replaces the best only on a strictly greater score).
        scores = [h.get("val_f1_macro") for h in history]
        if any(s is not None for s in scores):
            best = max(range(len(scores)), key=lambda i: (scores[i] if scores[i] is not None else -1.0, -i))
            return _epoch_number(history[best].get("epoch")) or best + 1
    return _epoch_number(history[-1].get("epoch")) or len(history)


def stop_reason(info: dict[str, Any]) -> str:
    """Why training ended: 'finished all 9 epochs', 'early stopping after epoch 8 of 9', 'stopped by you ...'."""
    history = info.get("history") or []
    params = info.get("params") or {}
    planned = _epoch_number(params.get("epochs")) or len(history)
    done = _epoch_number(history[-1].get("epoch")) if history else None
    done = done or len(history)
    if info.get("stopped_early"):
        return f"stopped by you during epoch {min(done + 1, planned) if planned else done + 1} of {planned}"
    patience = params.get("early_stopping_patience") or 0
    if patience and history and done < planned:
        return (
            f"early stopping after epoch {done} of {planned} "
            f"(macro-F1 did not improve for {patience} epoch{'s' if patience != 1 else ''})"
        )
    return f"finished all {planned} epoch{'s' if planned != 1 else ''}"


def done_line(info: dict[str, Any]) -> str:
    """'finished all 2 epochs · kept epoch 2 (macro-F1 91.0%)': the words after "Done <name>" (HTML-escaped)."""
    parts = [stop_reason(info)]
    kept = kept_epoch(info)
    if kept is not None:
        history = info.get("history") or []
        score = next((h.get("val_f1_macro") for h in history if _epoch_number(h.get("epoch")) == kept), None)
        parts.append(f"kept epoch {kept}" + (f" (validation macro-F1 {100 * score:.1f}%)" if score is not None else ""))
    return html.escape(" · ".join(parts))
