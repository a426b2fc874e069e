"""The Predict tab's words and tables: progress, summary, preview, the back-end's cost, a label check. No gradio."""

from __future__ import annotations

import html
from collections.abc import Iterable
from typing import Any

import pandas as pd

from bertdemo import config
from bertdemo.ui.views import pct

PROBABILITY = "probability"  # the preview's column: the probability of the predicted label


def progress_text(p: dict[str, Any] | None, backend: str) -> str:
    """The progress line: rows done of all, rate, ETA."""
    if not p:
        return f"Reading the file and loading the {backend or 'fastest'} back-end..."
    eta = f", ETA {p['eta']:.0f} s" if p.get("eta") is not None else ""
    share = p["done"] / p["total"] if p["total"] else 0.0
    return f"Predicting: **{p['done']:,} / {p['total']:,} rows** ({share:.0%}), {p['rows_per_second']:.1f} rows/s{eta}"


def summary_markdown(report: dict[str, Any]) -> str:
    """What was done, and the scores (in percent, like the rest of the page) when the file has labels."""
    lines = [
        f"**Done:** {report['predicted']:,} of {report['rows']:,} rows predicted with **{report['backend']}** "
        f"in {report['seconds']:.1f} s ({report['texts_per_second'] or 0:.1f} texts/s; loading "
        f"{report['load_seconds']:.1f} s). Text column `{report['text_column']}`."
    ]
    m, seen = report.get("metrics"), report.get("metrics_seen")
    known = report.get("seen_in_training") is not None  # the run knows its training texts
    if m:
        where = " not seen in training" if known else ""
        lines.append(
            f"**Accuracy {pct(m['accuracy'])}**, macro-F1 {pct(m['f1_macro'])} on {m['scored_rows']:,} rows"
            f"{where} labeled in column `{m['label_column']}`."
        )
    if seen:
        lines.append(
            f"On the {seen['scored_rows']:,} rows the run **trained on**: accuracy {pct(seen['accuracy'])}, "
            f"macro-F1 {pct(seen['f1_macro'])} (what it learned, not how it does on new text)."
        )
    lines += [f"- {note}" for note in report.get("notes") or []]
    return "\n\n".join(lines)


def preview_frame(rows: list[dict[str, Any]], text_column: str | None) -> pd.DataFrame:
    """The first result rows: prediction and its probability first, then the text, then the file's other columns.

    The per-class probability columns stay in the downloaded CSV; here they would push the text off-screen.
    """
    frame = pd.DataFrame(rows)
    if frame.empty or config.PREDICTED_COLUMN not in frame:
        return frame
    prob_cols = [c for c in frame.columns if str(c).startswith(config.PROBABILITY_PREFIX)]

    def probability(row) -> str:
        label = row[config.PREDICTED_COLUMN]
        value = row.get(f"{config.PROBABILITY_PREFIX}{label}") if label not in (None, "") else None
        try:
            return pct(float(value)) if value not in (None, "") else ""
        except (TypeError, ValueError):
            return ""

    out = pd.DataFrame({config.PREDICTED_COLUMN: frame[config.PREDICTED_COLUMN]})
    out[PROBABILITY] = frame.apply(probability, axis=1) if prob_cols else ""
    rest = [c for c in frame.columns if c != config.PREDICTED_COLUMN and c not in prob_cols]
    if text_column in rest:
        rest.remove(text_column)
        rest.insert(0, text_column)
    for column in rest:
        out[column] = frame[column]
    return out


def _points(value: float | None, reference: float | None) -> str:
    if value is None or reference is None:
        return ""
    delta = 100 * (float(value) - float(reference))
    return "same accuracy as PyTorch" if abs(delta) < 0.05 else f"{delta:+.1f} pts vs PyTorch"


def backend_choice_label(backend: str, exports: dict[str, Any] | None) -> str:
    """A back-end as the dropdown lists it: its validation accuracy, and the points it gives up to PyTorch.

    Short enough for a phone's dropdown; the note under the button says it in words.
    """
    exports = exports or {}
    torch_acc = (exports.get("pytorch") or {}).get("accuracy")
    if backend == "pytorch":
        return f"pytorch (reference{', ' + pct(torch_acc) if torch_acc is not None else ''})"
    v = (exports.get("variants") or {}).get(backend) or {}
    if v.get("accuracy") is None or torch_acc is None:
        return backend
    return f"{backend} ({pct(v['accuracy'])}, {100 * (float(v['accuracy']) - float(torch_acc)):+.1f} pts)"


def backend_cost_markdown(backend: str | None, default: str | None, exports: dict[str, Any] | None) -> str:
    """Which back-end labels the file and what it costs in accuracy (from the export checks on validation)."""
    if not backend:
        return ""
    exports = exports or {}
    torch_row = exports.get("pytorch") or {}
    why = " (the fastest whose export check passed)" if backend == default else " (your choice)"
    if backend == "pytorch":
        return (
            f"**Back-end: PyTorch**{why}: the model as trained, the reference the ONNX variants are checked "
            "against. An ONNX variant (exported on the **Export** tab) is usually faster."
        )
    v = (exports.get("variants") or {}).get(backend) or {}
    if v.get("accuracy") is None and v.get("agreement") is not None:  # the run trained on its validation rows
        return (
            f"**Back-end: {html.escape(backend)}**{why}. Its export check on {exports.get('checked_texts')} "
            f"validation rows: same label as PyTorch on {pct(v['agreement'])} of them (the run also trained on "
            "those rows, so the check measures agreement only)."
        )
    if v.get("accuracy") is None:
        return f"**Back-end: {html.escape(backend)}**{why}; no export check recorded to compare it with PyTorch."
    rows = exports.get("checked_texts")
    on = f"on the run's {rows:,} validation rows" if isinstance(rows, int) else "on the run's validation rows"
    agreement = f"same label as PyTorch on {pct(v['agreement'])} of them, " if v.get("agreement") is not None else ""
    return (
        f"**Back-end: {html.escape(backend)}**{why}. Its export check {on}: {agreement}accuracy "
        f"{pct(v['accuracy'])} against PyTorch's {pct(torch_row.get('accuracy'))} "
        f"({_points(v['accuracy'], torch_row.get('accuracy'))}). Pick another back-end above to trade speed for "
        "accuracy."
    )


def label_check_markdown(file_labels: Iterable[str], run_labels: Iterable[str], column: str | None) -> str:
    """Before scoring: a warning when the file's labels are not classes the run knows ('' when they are)."""
    found = sorted({str(x) for x in file_labels if str(x).strip()})
    known = [str(x) for x in run_labels]
    if not column or not found or not known:
        return ""
    # As the scorer reads them: 'Positive' is the run's 'positive' (labels arrive normalised like training's).
    known_keys, found_keys = {k.casefold() for k in known}, {x.casefold() for x in found}
    unknown = [x for x in found if x.casefold() not in known_keys]
    if not unknown:
        missing = [x for x in known if x.casefold() not in found_keys]
        return f"Labels in `{html.escape(column)}` are classes of this run" + (
            f" (none of {', '.join(f'`{html.escape(m)}`' for m in missing)} in the file)." if missing else "."
        )
    shown = ", ".join(f"`{html.escape(x)}`" for x in unknown[:8]) + (" ..." if len(unknown) > 8 else "")
    return (
        f"**The file's labels do not match this run's classes:** column `{html.escape(column)}` has {shown}, "
        f"which the run does not know (it predicts {', '.join(f'`{html.escape(k)}`' for k in known)}). "
        "Those rows are counted but not scored: pick another label column, `(none)`, or a run trained on "
        "these classes."
    )
