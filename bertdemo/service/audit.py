"""A saved run's data audit for the UI, the CLI and /audit: ranked rows, duplicates, leakage, and the files to fix.

Plain values, no gradio; the run's owner rules apply as for /predict_file (bertdemo.runs.access).
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

from bertdemo import config
from bertdemo.data import duplicates
from bertdemo.data.audit import KINDS as AUDIT_KINDS
from bertdemo.data.audit import is_flagged
from bertdemo.data.csvread import read_table
from bertdemo.data.csvwrite import SafeWriter
from bertdemo.errors import BertDemoError
from bertdemo.runs import access, store, tempfiles
from bertdemo.service.common import is_blank

__all__ = ["AUDIT_KINDS", "audit", "audit_csv", "older_run_note"]

# The columns the downloads add to the uploaded file, and the fields of each ranked row in an answer.
ADDED_COLUMNS = ("suggested_label", "audit_score", "audit_reason")
ROW_FIELDS = ("row", "text", "given_label", "suggested_label", "score", "reason", "kind", "split")
# Fewer epochs of training dynamics than this: too few to tell a hard row from a mislabeled one.
MIN_DYNAMICS_EPOCHS = 2


def _run(name: str | None, root: Path | None, owner: str | None, trusted: bool) -> tuple[Path, dict[str, Any]]:
    """The run's folder and run.json; `trusted` (the command line, which reads models/ anyway) skips the owner check."""
    if is_blank(name):
        raise BertDemoError("No run chosen: pick a saved run to audit.")
    name = str(name).strip()
    if trusted:
        return store.run_dir(name, root), store.load_run(name, root)
    path = access.check_visible(name, owner, root)
    with access.as_seen_by(name, owner, root):  # deleted meanwhile: the caller's own answer, not the store's list
        return path, store.load_run(path.name, root)


def _ranked(path: Path, info: dict[str, Any]) -> list[dict[str, Any]]:
    """Every audited row of the run, most suspicious first (audit.json, or the older runs' fallback)."""
    if (info.get("audit") or {}).get("available") and (path / store.AUDIT_JSON).is_file():
        return json.loads((path / store.AUDIT_JSON).read_text(encoding="utf-8"))["rows"]
    return _older_run_rows(path, info)


def _older_run_rows(path: Path, info: dict[str, Any]) -> list[dict[str, Any]]:
    """A run saved before audits: its validation rows, ranked by out-of-fold bag-of-words probabilities."""
    from bertdemo.training.auditing import audit_texts

    file = path / store.VALIDATION_CSV
    if not file.is_file():
        raise BertDemoError(f"Run {info.get('name')!r} has no audit and no validation rows to audit: train it again.")
    with open(file, newline="", encoding="utf-8") as fh:
        records = [(r["text"], r["label"]) for r in csv.DictReader(fh)]
    wrong = {m["text"]: m for m in info.get("mistakes") or []}
    return audit_texts([t for t, _ in records], [y for _, y in records], list(info.get("labels") or []), wrong)


def older_run_note(name: str) -> str:
    """The one line that says what an audit of a run saved before audits could and could not check."""
    return (
        f"Run {name!r} was saved before audits, so it has no training dynamics and no copy of its file: only its "
        "validation rows were checked (row = row of its validation.csv, not of your file), with a bag-of-words "
        "model; train it again for the full audit."
    )


def audit(
    name: str | None,
    top: int | None = config.AUDIT_TOP_ROWS,
    root: Path | None = None,
    owner: str | None = None,
    trusted: bool = False,
) -> dict[str, Any]:
    """The run's audit: `rows` (most suspicious first, at most `top`; 0 or None = all), duplicates, leakage, notes."""
    path, info = _run(name, root, owner, trusted)
    found = info.get("audit") or {}
    rows = _ranked(path, info)
    top = int(top) if top not in (None, "") else 0
    if top < 0:
        raise BertDemoError(f"Top must be 0 (every row) or more (got {top}).")
    notes: list[str] = []
    if not found.get("available"):
        notes.append(older_run_note(info["name"]))
    leak = duplicates.leakage_warning(found.get("leakage"))
    if leak:
        notes.append(leak)
    summary = found.get("mislabeled") or {}
    if found.get("available") and not any("dynamics" in e for e in summary.get("evidence", [])):
        notes.append("No training dynamics were recorded for this run (stopped before an epoch ended?).")
    weak = weak_model_note(info, summary)
    if weak:
        notes.append(weak)
    return {
        "name": info["name"],
        "available": bool(found.get("available")),
        "rows": [_answer_row(r) for r in (rows[:top] if top else rows)],
        "total_rows": len(rows),
        "classes": list(info.get("labels") or []),
        "duplicates": found.get("duplicates"),
        "leakage": found.get("leakage"),
        "summary": summary,
        "notes": notes,
    }


def _answer_row(row: dict[str, Any]) -> dict[str, Any]:
    """One ranked row of an answer; `flagged`: counted as mislabeled (the UI lists those, "accept all" takes those)."""
    return {**{k: row.get(k) for k in ROW_FIELDS}, "flagged": is_flagged(row)}


def weak_model_note(info: dict[str, Any], summary: dict[str, Any]) -> str:
    """Why the fine-tuned model's half of the evidence is weak for this run (lost to bag-of-words, too few epochs),
    or "" when it is not."""
    accuracy = (info.get("metrics") or {}).get("accuracy")
    baseline = (info.get("baseline") or {}).get("accuracy")
    epochs = summary.get("dynamics_epochs")
    why = []
    if accuracy is not None and baseline is not None and accuracy <= baseline:
        why.append(f"the fine-tuned model ({accuracy:.1%}) did no better than the bag-of-words model ({baseline:.1%})")
    if epochs and epochs < MIN_DYNAMICS_EPOCHS:
        why.append(f"it has only {epochs} epoch(s) of training dynamics, too few to tell a hard row from a wrong label")
    if not why:
        return ""
    return (
        "Weak run: " + " and ".join(why) + ". So its votes ('hard to learn', 'model disagrees') say little here: trust "
        "the rows the bag-of-words model flags ('bag-of-words disagrees'), or train longer and audit again."
    )


def _uploaded(path: Path, info: dict[str, Any]) -> Path:
    kept = (info.get("audit") or {}).get("data_file")
    if not kept or not (path / kept).is_file():
        raise BertDemoError(
            f"Run {info['name']!r} was saved before audits kept the uploaded file: train it again to download "
            "your file with audit columns."
        )
    return path / kept


def audit_csv(
    name: str | None,
    accepted: list[int] | None = None,
    root: Path | None = None,
    owner: str | None = None,
    trusted: bool = False,
    out: Path | None = None,
) -> Path:
    """The uploaded file with suggested_label, audit_score and audit_reason added; `accepted` rows get the suggestion
    as their label (the corrected file). Written to `out`, or to a temporary file swept like the other downloads."""
    path, info = _run(name, root, owner, trusted)
    source = _uploaded(path, info)
    by_row = {int(r["row"]): r for r in _ranked(path, info) if r.get("split") == "train" or not _separate_val(info)}
    accepted_rows = _accepted(accepted, by_row)
    stem = f"{info['name']}-{'corrected' if accepted_rows else 'audit'}.csv"

    def write(out: Path) -> None:
        table = read_table(source)
        label_column = (info.get("data") or {}).get("label_column")
        li = table.columns.index(label_column) if label_column in table.columns else None
        taken = {c.casefold() for c in table.columns}
        added = [_fresh(c, taken) for c in ADDED_COLUMNS]
        with open(out, "w", newline="", encoding="utf-8") as fh:
            writer = SafeWriter(fh)  # a downloaded file: no formula runs in a spreadsheet
            writer.writerow(table.columns + added)
            for number, row in enumerate(table.rows, start=1):
                found = by_row.get(number)
                row = list(row)
                if found and number in accepted_rows and li is not None:
                    row[li] = found["suggested_label"]
                if found:
                    writer.writerow(row + [found["suggested_label"], found["score"], found["reason"]])
                else:  # dropped while reading (no text or label) or left out of the max-rows sample
                    writer.writerow(row + ["", "", "not used for training"])

    if out:
        write(Path(out))
        return Path(out)
    # Built once per run version and set of accepted rows, then reused: every press used to copy the whole file.
    version = f"audit:{path}:{(path / store.RUN_JSON).stat().st_mtime_ns}:{sorted(accepted_rows)}"
    return tempfiles.cached_download(config.AUDIT_DIR_PREFIX, version, stem, write)


def _separate_val(info: dict[str, Any]) -> bool:
    return bool(((info.get("audit") or {}).get("mislabeled") or {}).get("validation_file"))


def _accepted(accepted: list[int] | None, by_row: dict[int, dict[str, Any]]) -> set[int]:
    """The row numbers whose suggestion the user accepted, checked against the audited rows."""
    rows: set[int] = set()
    for value in accepted or []:
        try:
            number = int(value)
        except (TypeError, ValueError):
            raise BertDemoError(f"Accepted rows must be row numbers (got {str(value)[:30]!r}).") from None
        if number not in by_row:
            raise BertDemoError(f"Row {number} was not audited in this run: accept only rows the audit lists.")
        rows.add(number)
    return rows


def _fresh(name: str, taken: set[str]) -> str:
    """name, or name_2, name_3... when the file already has such a column."""
    candidate, n = name, 2
    while candidate.casefold() in taken:
        candidate, n = f"{name}_{n}", n + 1
    taken.add(candidate.casefold())
    return candidate
