"""Label a whole CSV with a saved run: rows stream in chunks through a predictor and out to a result CSV.

Memory stays bounded by one chunk whatever the file's size; a row without text gets an empty prediction and
is counted; when the file has labels too, accuracy, macro-F1 and the confusion matrix come with the result.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bertdemo import config
from bertdemo.data.columns import pick_text_and_label
from bertdemo.data.csvread import TableHead, count_rows, open_table, show
from bertdemo.data.csvwrite import SafeWriter
from bertdemo.data.labeled import normalize_label
from bertdemo.errors import DataError
from bertdemo.inference.seen import text_key, training_texts
from bertdemo.runs import store, tempfiles

log = logging.getLogger(__name__)

RowProgress = Callable[[dict[str, Any]], None]


def fastest_backend(name: str, root: Path | None = None) -> str:
    """The fastest back-end of a run whose export check passed (PyTorch when nothing was exported)."""
    import torch

    from bertdemo.inference.predictors import onnx_file

    run_path = store.run_dir(name, root)
    variants = (store.load_run(name, root).get("exports") or {}).get("variants") or {}
    order = config.FASTEST_BACKENDS_CUDA if torch.cuda.is_available() else config.FASTEST_BACKENDS_CPU
    for backend in order:
        if backend == "pytorch":
            return backend
        if (variants.get(backend) or {}).get("passed") and onnx_file(run_path, backend).is_file():
            return backend
    return "pytorch"


def pick_columns(
    head: TableHead, text_column: str | None, label_column: str | None, run: dict[str, Any], notes: list[str]
) -> tuple[int, int | None]:
    """The text column and the gold-label column (None: no scoring), picked as training picks them.

    The run's own text and label column names come first when the file has them, and a column holding the
    run's classes is taken as the labels whatever its name.
    """
    data = run.get("data") or {}
    return pick_text_and_label(
        head,
        text_column,
        label_column,
        notes,
        label_required=False,
        prefer=(data.get("text_column"), data.get("label_column")),
        known_labels=run.get("labels") or [],
    )


def fresh_name(name: str, taken: set[str]) -> str:
    """name, or name_2, name_3... if the input file already has a column called that."""
    candidate, n = name, 1
    while candidate.casefold() in taken:
        n += 1
        candidate = f"{name}_{n}"
    taken.add(candidate.casefold())
    return candidate


def predict_file(
    name: str,
    csv_path: str | Path,
    out_path: str | Path | None = None,
    backend: str | None = None,
    text_column: str | None = None,
    label_column: str | None = None,
    root: Path | None = None,
    progress: RowProgress | None = None,
    chunk_rows: int | None = None,
) -> dict[str, Any]:
    """Predict every row of csv_path with run `name` into out_path (input columns + prediction + probabilities).

    backend None or "" means the fastest one whose export check passed. Returns a report: rows, predicted,
    skipped (empty text), columns used, seconds, texts per second, a preview, and metrics when labels are there.
    `seen_in_training` counts the rows whose text the run trained on (None: the run keeps no list of them);
    `metrics` scores the other rows, `metrics_seen` those (a model is right on most of what it learned).
    """
    from bertdemo.inference.predictors import check_backend, load_predictor

    started = time.perf_counter()
    backend = check_backend(backend) if backend else fastest_backend(name, root)
    store.run_dir(name, root)  # an unknown run is refused before the file is read
    csv_path = Path(csv_path)
    # A first, cheap pass: the ETA needs the total, and a huge file is refused as soon as the count passes the limit.
    total = count_rows(csv_path, max_rows=config.PREDICT_MAX_ROWS)
    if total == 0:
        raise DataError(f"{csv_path.name} has a header row but no data rows: add one text per row.")
    out = Path(out_path) if out_path else _result_path(csv_path)
    chunk_rows = max(1, int(chunk_rows or config.PREDICT_CHUNK_ROWS))
    notes: list[str] = []
    with open_table(csv_path, max_rows=config.PREDICT_MAX_ROWS) as (head, rows):
        ti, li = pick_columns(head, text_column, label_column, store.load_run(name, root), notes)
        predictor = load_predictor(name, backend, root)
        loaded = time.perf_counter()  # throughput and ETA count prediction only, not the model's loading
        labels = list(predictor.label_names)
        taken = {c.casefold() for c in head.columns}
        pred_col = fresh_name(config.PREDICTED_COLUMN, taken)
        prob_cols = [fresh_name(f"{config.PROBABILITY_PREFIX}{lab}", taken) for lab in labels]
        header = head.columns + [pred_col, *prob_cols]
        trained_on = training_texts(store.run_dir(name, root))
        scorer = _Scorer(labels) if li is not None else None
        stats = {"done": 0, "predicted": 0, "skipped": 0, "seen": 0, "preview": []}
        partial = out.with_name(f".{out.name}.part")
        out.parent.mkdir(parents=True, exist_ok=True)
        try:
            with open(partial, "w", newline="", encoding="utf-8") as fh:
                writer = SafeWriter(fh)  # a downloaded file: no formula runs in a spreadsheet
                writer.writerow(header)
                chunk: list[list[str]] = []
                for row in rows:
                    chunk.append(row)
                    if len(chunk) >= chunk_rows:
                        _predict_chunk(predictor, chunk, ti, li, writer, scorer, stats, header, trained_on)
                        _report(progress, stats["done"], total, loaded)
                        chunk = []
                if chunk:
                    _predict_chunk(predictor, chunk, ti, li, writer, scorer, stats, header, trained_on)
                    _report(progress, stats["done"], total, loaded)
            os.replace(partial, out)  # a stopped or failed job never leaves a half-written result under its name
        finally:
            partial.unlink(missing_ok=True)
    seconds = time.perf_counter() - loaded
    notes[:0] = head.notes  # how the file was read (complete only once every row went through)
    if stats["skipped"]:
        notes.append(f"{stats['skipped']:,} row(s) had no text: their prediction is left empty.")
    metrics, metrics_seen = scorer.result(head.columns[li], notes) if scorer is not None else (None, None)
    if trained_on is not None and stats["seen"]:
        notes.append(seen_note(stats["seen"], stats["predicted"], scorer is not None))
    return {
        "name": store.sanitize_name(name),
        "backend": backend,
        "source": csv_path.name,
        "out": str(out),
        "rows": stats["done"],
        "predicted": stats["predicted"],
        "skipped": stats["skipped"],
        "text_column": head.columns[ti],
        "label_column": head.columns[li] if li is not None else None,
        "columns": header,
        "labels": labels,
        "seconds": round(seconds, 3),  # predicting and writing
        "load_seconds": round(loaded - started, 3),  # counting rows and loading the model
        "texts_per_second": round(stats["predicted"] / seconds, 2) if seconds else None,
        "preview": stats["preview"],
        "metrics": metrics,
        "seen_in_training": stats["seen"] if trained_on is not None else None,
        "metrics_seen": metrics_seen,
        "notes": notes,
        "limits": {"max_rows": config.PREDICT_MAX_ROWS, "max_upload_mb": config.MAX_UPLOAD_MB},
    }


def _result_path(csv_path: Path) -> Path:
    stem = csv_path.name.split(".")[0] or "predictions"
    return tempfiles.new_temp_dir(config.PREDICT_DIR_PREFIX, config.ZIP_MAX_AGE_S) / f"{stem}-predictions.csv"


def _predict_chunk(predictor, chunk, ti, li, writer, scorer, stats, header, trained_on) -> None:
    """Predict the rows that have text (the predictor sorts them by length and restores the order), write all."""
    texts = [row[ti].strip() for row in chunk]
    keep = [i for i, t in enumerate(texts) if t]
    out_rows = [row + [""] * (len(header) - len(row)) for row in chunk]
    if keep:
        pred = predictor.predict([texts[i] for i in keep])
        for j, i in enumerate(keep):
            out_rows[i][len(chunk[i])] = pred.labels[j]
            out_rows[i][len(chunk[i]) + 1 :] = [f"{p:.6f}" for p in pred.probabilities[j]]
            seen = trained_on is not None and text_key(texts[i]) in trained_on
            stats["seen"] += seen
            if scorer is not None:
                scorer.add(chunk[i][li], pred.labels[j], seen)
    writer.writerows(out_rows)
    stats["done"] += len(chunk)
    stats["predicted"] += len(keep)
    stats["skipped"] += len(chunk) - len(keep)
    room = config.PREVIEW_ROWS - len(stats["preview"])
    if room > 0:
        cut = config.PREVIEW_MAX_CHARS
        stats["preview"] += [{c: v[:cut] for c, v in zip(header, r, strict=True)} for r in out_rows[:room]]


def _report(progress: RowProgress | None, done: int, total: int, started: float) -> None:
    if progress is None:
        return
    elapsed = time.perf_counter() - started
    rate = done / elapsed if elapsed > 0 else 0.0
    eta = (total - done) / rate if rate > 0 else None
    progress({"done": done, "total": total, "elapsed": round(elapsed, 2), "eta": eta, "rows_per_second": rate})


def seen_note(seen: int, predicted: int, scored: bool) -> str:
    """The line that says how much of the file the run trained on."""
    part = "all" if seen == predicted else f"{seen:,} of"
    scores = " Their scores are shown apart: a model is right on most of what it learned." if scored else ""
    return f"The run trained on {part} {predicted:,} text(s) of this file.{scores}"


class _Scorer:
    """Gold vs predicted labels of the rows whose label is one of the run's (compared case-insensitively),
    rows the run trained on kept apart from the others."""

    def __init__(self, labels: list[str]):
        self.labels = labels
        # Gold labels read as training reads them: '1.0' is the run's '1', 'Positive' its 'positive'.
        self._by_key = {normalize_label(lab).casefold(): lab for lab in labels}
        self.pairs: dict[bool, tuple[list[str], list[str]]] = {False: ([], []), True: ([], [])}
        self.unknown = 0

    def add(self, gold: str, pred: str, seen: bool = False) -> None:
        label = self._by_key.get(normalize_label(gold).casefold())
        if label is None:
            self.unknown += bool(gold.strip())
            return
        golds, preds = self.pairs[seen]
        golds.append(label)
        preds.append(pred)

    def result(self, column: str, notes: list[str]) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
        """(scores of the rows the run did not train on, scores of those it trained on); None where none."""
        if self.unknown:
            notes.append(
                f"{self.unknown:,} row(s) of column {show(column)} hold labels the run does not know "
                f"({', '.join(self.labels)}): not scored."
            )
        return self._scores(column, *self.pairs[False]), self._scores(column, *self.pairs[True])

    def _scores(self, column: str, gold: list[str], pred: list[str]) -> dict[str, Any] | None:
        if not gold:
            return None
        from sklearn.metrics import accuracy_score, confusion_matrix, f1_score

        return {
            "label_column": column,
            "scored_rows": len(gold),
            "accuracy": float(accuracy_score(gold, pred)),
            "f1_macro": float(f1_score(gold, pred, average="macro", zero_division=0)),
            "labels": self.labels,
            "confusion_matrix": confusion_matrix(gold, pred, labels=self.labels).tolist(),
        }
