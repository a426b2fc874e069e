"""Plain values -> what the tabs display (Markdown, HTML, DataFrames). No gradio here, so tests need none."""

from __future__ import annotations

import html
import math
import time
from pathlib import Path
from typing import Any

import pandas as pd

from bertdemo.service import training_settings, verdict
from bertdemo.ui.run_outcome import done_line

_PHASES = {
    "starting": "Starting the training process",
    "loading": "Loading the base model",
    "training": "Training",
    "evaluating": "Evaluating on the validation rows",
    "saving": "Saving the model",
    "done": "Done",
    "failed": "Failed",
    "stopped": "Stopped",
}


def _fmt_seconds(seconds: float | None) -> str:
    if seconds is None:
        return "?"
    seconds = int(round(seconds))
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def pct(value: float | None) -> str:
    """The one format of scores and confidences in the app: a percentage with one decimal ('-' for none)."""
    try:
        return "-" if value is None else f"{100 * float(value):.1f}%"
    except (TypeError, ValueError):
        return "-"


# --- data -------------------------------------------------------------------------------------------------------


def inspection_summary(report: dict[str, Any]) -> str:
    """What was read from the CSV, what was dropped or fixed, and what to watch, as Markdown."""
    counts = report.get("class_counts") or {}
    delimiter = {"\t": "tab", ",": "comma", ";": "semicolon", "|": "pipe"}.get(
        report.get("delimiter"), repr(report.get("delimiter"))
    )
    facts = [
        f"**{html.escape(str(report.get('source', 'CSV')))}**: {report.get('rows', 0):,} usable rows of "
        f"{report.get('rows_read', 0):,}, {len(counts)} classes "
        f"(text column `{report.get('text_column')}`, label column `{report.get('label_column')}`; "
        f"{report.get('encoding')}, {delimiter}-separated).",
    ]
    dropped = report.get("dropped") or {}
    if dropped:
        facts.append("**Dropped:** " + "; ".join(f"{n:,} {reason}" for reason, n in dropped.items()) + ".")
    if report.get("duplicates"):
        facts.append(f"**Duplicates:** {report['duplicates']:,} repeated (text, label) rows (kept).")
    tokens = report.get("token_lengths") or {}
    if tokens:
        facts.append(
            f"**Tokens per text:** median {tokens.get('p50')}, 95% under {tokens.get('p95')}, "
            f"longest {tokens.get('max')}; {tokens.get('over_max_length', 0):,} over "
            f"{tokens.get('max_length', 'max length')}."
        )
    auto = report.get("auto_settings") or {}
    if auto:
        facts.append(
            "**Settings on auto would be:** "
            + "; ".join(
                f"{k.replace('_', ' ')} {html.escape(str(auto[k]))}" for k in ("epochs", "max_length") if k in auto
            )
            + "."
        )
    base = report.get("baseline") or {}
    if base.get("accuracy") is not None:
        facts.append(
            "**Baseline (bag-of-words)**: TF-IDF + logistic regression on the same 80/20 split ("
            f"{base.get('seconds', 0):.1f} s), accuracy {pct(base['accuracy'])}, "
            f"macro-F1 {pct(base.get('f1_macro'))}. Fine-tuning should beat this."
        )
    bullets = [f"- **Warning:** {html.escape(w)}" for w in report.get("warnings") or []]
    bullets += [f"- **Note:** {html.escape(n)}" for n in report.get("notes") or []]
    return "\n\n".join(facts) + ("\n\n" + "\n".join(bullets) if bullets else "")


def refused_data_markdown(
    message: str, text_column: str | None, label_column: str | None, picked: bool, can_pick: bool = True
) -> str:
    """Why the data cannot be used, naming the columns it was read with (those in the column boxes).

    `picked`: the user chose these columns (else they were detected); `can_pick`: the file has two columns or more.
    """
    head = "**This data cannot be used yet**"
    if text_column and label_column:
        how = "as you picked them" if picked else "detected; pick others on the left if they are wrong"
        cols = f"text column `{html.escape(text_column)}`, label column `{html.escape(label_column)}`"
        return f"{head} (read with {cols}, {how}): {message}"
    hint = "\n\nPick the **Text column** and **Label column** on the left." if can_pick else ""
    return f"{head}: {message}{hint}"


def column_widths(columns: list[str], text_column: str | None) -> list[str] | None:
    """Widths that keep every column of a short table on screen, the text column the widest (None: let it be)."""
    n = len(columns)
    if n < 2 or n > 6 or text_column not in columns:
        return None  # wide tables scroll sideways, as they must
    text_share = {2: 72, 3: 60, 4: 52, 5: 44, 6: 40}[n]
    other = (100 - text_share) / (n - 1)
    return [f"{text_share if c == text_column else other:.0f}%" for c in columns]


def preview_frame(report: dict[str, Any]) -> pd.DataFrame:
    """The first rows of the file, as read."""
    preview = report.get("preview") or []
    return pd.DataFrame(preview, columns=report.get("columns") or None)


# --- training ---------------------------------------------------------------------------------------------------


def progress_html(status: dict[str, Any] | None, info: dict[str, Any] | None = None) -> str:
    """A progress bar with phase, epoch, step, elapsed time and ETA.

    `info`: the saved run of a finished job (run.json). Then one line says why training ended and which epoch
    the model is, built from the run alone: the same words live and after a reload.
    """
    if status and status.get("state") == "done" and info:
        name = html.escape(str(info.get("name") or status.get("name") or ""))
        took = _took(status, info)
        return (
            f'<div class="bd-progress bd-done"><div class="bd-text"><b>Done</b> <code>{name}</code> · '
            f"{done_line(info)}{took}</div>"
            '<div class="bd-track"><div class="bd-fill" style="width:100.0%"></div></div></div>'
        )
    if not status:
        return (
            '<div class="bd-progress bd-idle">No training yet: load data, check the settings, '
            "then press <b>Train</b>.</div>"
        )
    state = status.get("state", "running")
    phase = status.get("phase") or "starting"
    step, total = status.get("step") or 0, status.get("total_steps") or 0
    if state == "done":
        fraction = 1.0
    else:
        fraction = step / total if total else 0.0
    label = _PHASES.get(state if state != "running" else phase, phase.capitalize())
    name = html.escape(str(status.get("name") or ""))
    parts = [f"<b>{label}</b>" + (f" <code>{name}</code>" if name else "")]
    if total:
        epochs = status.get("epochs") or 0
        # The epoch under way: 7.4 -> 8, and 8.0 (epoch 8 just ended, being evaluated) stays 8, not 9.
        epoch_now = min(epochs, max(1, math.ceil(float(status.get("epoch") or 0)))) if epochs else 0
        if status.get("kept_epoch"):  # "Stop, keep best epoch": the run will be that epoch, not the current one
            parts.append(f"stopped in epoch {epoch_now}/{epochs}, keeping epoch {status['kept_epoch']}")
        elif epochs:
            parts.append(f"epoch {epoch_now}/{epochs}")
        parts.append(f"step {step}/{total}")
    if state == "running":
        # Wall time since Train was pressed (the job's own clock starts only once the model is loaded).
        started = status.get("started")
        parts.append(f"{_fmt_seconds(time.time() - started if started else status.get('elapsed'))} elapsed")
        if status.get("eta") is not None and phase == "training":
            parts.append(f"about {_fmt_seconds(status.get('eta'))} left")
    elif status.get("elapsed"):
        parts.append(f"training took {_fmt_seconds(status.get('elapsed'))}")
    css = {"done": "bd-done", "failed": "bd-failed", "stopped": "bd-stopped"}.get(state, "bd-running")
    message = status.get("message") or ""
    note = f'<div class="bd-note">{html.escape(message)}</div>' if message and state != "running" else ""
    return (
        f'<div class="bd-progress {css}"><div class="bd-text">{" · ".join(parts)}</div>'
        f'<div class="bd-track"><div class="bd-fill" style="width:{100 * fraction:.1f}%"></div></div>'
        f"{note}</div>"
    )


def _took(status: dict[str, Any], info: dict[str, Any]) -> str:
    """' · 1:25 in all (training 1:11)': the same clock as the live 'elapsed' (from Train to the saved run),
    then the training loop alone (run.json's train_seconds, the same after a reload)."""
    train = f"training {_fmt_seconds(info['train_seconds'])}" if info.get("train_seconds") else ""
    started, ended = status.get("started"), status.get("ended")
    if started and ended and ended >= started:
        return f" · {_fmt_seconds(ended - started)} in all" + (f" ({train})" if train else "")
    return f" · {train}" if train else ""


def busy_markdown(status: dict[str, Any] | None) -> str:
    """A notice that another user's training keeps the machine busy ('' when none runs)."""
    if not status or status.get("state") != "running":
        return ""
    step, total = status.get("step") or 0, status.get("total_steps") or 0
    done = f"{100 * step / total:.0f}% done" if total else "starting"
    eta = status.get("eta")
    left = f", about {_fmt_seconds(eta)} left" if eta is not None and total else ""
    return (
        f"**Busy:** another user's training is running ({done}{left}). One training runs at a time here: "
        "you can prepare your data and settings now, and press **Train** once it has finished (it is off until "
        "then)."
    )


def running_file_markdown(csv_path: str | None) -> str:
    """Section 1 after a reload during a training: which file the running job trains on."""
    name = html.escape(Path(str(csv_path)).name) if csv_path else "?"
    return (
        f"**Training now on `{name}`** (the file of the running job; its columns are shown on the left). "
        "Upload a file, or click **Use example data**, to prepare the next run."
    )


def device_markdown(status: dict[str, Any] | None) -> str:
    """Device, precision and the settings picked automatically."""
    if not status:
        return ""
    dev = status.get("device") or {}
    lines = []
    if dev:
        kind = "GPU" if dev.get("device") == "cuda" else "CPU"
        precision = dev.get("precision") or ("bf16" if dev.get("bf16") else "fp16" if dev.get("fp16") else "fp32")
        precision = {"bf16": "bf16 (mixed)", "fp16": "fp16 (mixed)"}.get(precision, precision)
        n = dev.get("threads")
        threads = f", {n} thread{'' if n == 1 else 's'}" if n else ""
        lines.append(f"**Device:** {kind} ({html.escape(str(dev.get('name') or '?'))}{threads}), {precision} precision")
    chosen = status.get("chosen") or {}
    if chosen:
        lines.append(
            "**Chosen for you:** "
            + "; ".join(f"{k.replace('_', ' ')} {html.escape(str(v))}" for k, v in chosen.items())
        )
    base = status.get("baseline") or {}
    if base.get("accuracy") is not None:
        lines.append(
            f"**Baseline (bag-of-words)** on the same split: accuracy {pct(base['accuracy'])}, "
            f"macro-F1 {pct(base.get('f1_macro'))} (TF-IDF + logistic regression, {base.get('seconds', 0):.1f} s)"
        )
    quick_line = quick_markdown(status.get("quick"), status.get("state"))
    if quick_line:
        lines.append(quick_line)
    return "  \n".join(lines)


def quick_markdown(quick: dict[str, Any] | None, state: str | None) -> str:
    """The quick model (linear probe) line: its run, its validation accuracy and interval, what becomes of it."""
    if not quick:
        return ""
    if not quick.get("run"):
        return f"**Quick model:** not made ({html.escape(str(quick.get('error') or 'unknown reason'))})"
    fate = {
        "running": "try it in **Predict** (or export and compare it) while fine-tuning runs; it is replaced by the "
        "final run, and kept if training fails or is stopped with *keep best* before an epoch ends",
        "done": "replaced by the final run",
    }.get(state or "", "kept as a run of its own")
    if quick.get("removed") and state != "done":
        fate = "removed with the stopped training"
    return (
        f"**Quick model** (linear probe on the frozen encoder, ready in {quick.get('seconds', 0):.1f} s): "
        f"`{html.escape(str(quick['run']))}`, validation accuracy {pct(quick.get('accuracy'))}"
        f"{interval_text(quick.get('accuracy_interval'))}; {fate}."
    )


def interval_text(interval: dict[str, Any] | None) -> str:
    """' (95% interval 30.0%-95.4%)' for an accuracy's Wilson interval, '' without one."""
    if not interval:
        return ""
    return f" (95% interval {pct(interval.get('low'))}–{pct(interval.get('high'))})"


def results_markdown(info: dict[str, Any]) -> str:
    """Headline metrics of a saved run."""
    m = info.get("metrics") or {}
    data = info.get("data") or {}
    seconds = info.get("train_seconds")
    took = f" in {_fmt_seconds(seconds)}" if seconds else ""
    return (
        f"### Saved {html.escape(str(info.get('name')))}: accuracy **{pct(m.get('accuracy'))}**"
        f"{interval_text(m.get('accuracy_interval'))}, macro-F1 **{pct(m.get('f1_macro'))}**\n"
        f"Trained {len(info.get('history') or [])} epoch(s){took} on {data.get('train_rows', '?')} rows, "
        f"checked on {data.get('val_rows', '?')} validation rows. Base model: `{info.get('base_model')}`."
        + _refit_line(info.get("refit"))
        + _baseline_line(m.get("accuracy"), info.get("baseline"))
    )


def _refit_line(refit: dict[str, Any] | None) -> str:
    """The contrastive recipe's second pass: the saved model learnt from the validation rows too."""
    if not refit:
        return ""
    return (
        f"\n\nThen trained again on all {refit.get('rows', '?')} rows, the validation rows included, in "
        f"{_fmt_seconds(refit.get('seconds') or 0)}: the saved model learnt from every row; the scores above are "
        "those of the same recipe without the validation rows."
    )


def _baseline_line(accuracy: float | None, baseline: dict[str, Any] | None) -> str:
    """'Fine-tuned 93.3% vs bag-of-words 65.0%' (baseline.verdict in the page's number format)."""
    line = verdict(accuracy, baseline, fmt=lambda v: f"**{pct(v)}**")
    return f"\n\n{line[0].upper()}{line[1:]}" if line else ""


def per_class_frame(info: dict[str, Any]) -> pd.DataFrame:
    """Precision, recall, F1 and support per class."""
    per_class = (info.get("metrics") or {}).get("per_class") or {}
    rows = [
        {
            "class": label,
            "precision": pct(v.get("precision", 0)),
            "recall": pct(v.get("recall", 0)),
            "f1": pct(v.get("f1", 0)),
            "support": v.get("support"),
        }
        for label, v in per_class.items()
    ]
    return pd.DataFrame(rows, columns=["class", "precision", "recall", "f1", "support"])


def mistakes_frame(info: dict[str, Any]) -> pd.DataFrame:
    """Validation rows the model got wrong, most confident first."""
    rows = info.get("mistakes") or []
    return pd.DataFrame(
        [
            {
                "text": r.get("text"),
                "true label": r.get("label"),
                "predicted": r.get("predicted"),
                "confidence": pct(r.get("confidence")),
            }
            for r in rows
        ],
        columns=["text", "true label", "predicted", "confidence"],
    )


# --- models, charts ---------------------------------------------------------------------------------------------

# The key columns first: a phone shows those, the rest a sideways scroll away.
MODEL_COLUMNS = [
    "name",
    "accuracy",
    "exports",
    "macro-F1",
    "bag-of-words",
    "labels",
    "rows",
    "epochs",
    "base model",
    "created",
    "access",
]
_ACCESS = {"yours": "yours", "shared": "shared (read-only)"}


def models_frame(runs: list[dict[str, Any]]) -> pd.DataFrame:
    """The saved-runs table."""
    rows = [
        {
            "name": r["name"],
            "base model": r.get("base_model"),
            "labels": ", ".join(map(str, r.get("labels") or [])),
            "rows": (r.get("train_rows") or 0) + (r.get("val_rows") or 0),
            "accuracy": pct(r.get("accuracy")),
            "macro-F1": pct(r.get("f1_macro")),
            "bag-of-words": pct(r.get("baseline_accuracy")),
            "epochs": r.get("epochs"),
            "created": str(r.get("created") or "").replace("T", " ")[:16],
            "exports": ", ".join(r.get("exports") or []) or "-",
            "access": _ACCESS.get(r.get("access") or "shared", "shared (read-only)"),
        }
        for r in runs
    ]
    return pd.DataFrame(rows, columns=MODEL_COLUMNS)


def params_frame(infos: dict[str, dict[str, Any]]) -> pd.DataFrame:
    """One column per run: its training parameters and final scores, side by side."""
    table: dict[str, dict[str, Any]] = {}
    for name, info in infos.items():
        params = info.get("params") or {}
        m = info.get("metrics") or {}
        # Older runs lack newer settings: they show as "-".
        col = {s.spec.label: params.get(s.name) for s in training_settings()}
        col.update(
            {
                "train rows": (info.get("data") or {}).get("train_rows"),
                "accuracy": pct(m.get("accuracy")),
                "macro-F1": pct(m.get("f1_macro")),
                "bag-of-words accuracy": pct((info.get("baseline") or {}).get("accuracy")),
                "train time": _fmt_seconds(info.get("train_seconds")),
            }
        )
        table[name] = {k: ("-" if v is None else str(v)) for k, v in col.items()}
    frame = pd.DataFrame(table)
    frame.insert(0, "setting", frame.index)
    return frame.reset_index(drop=True)
