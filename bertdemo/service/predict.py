"""Predictions from the app: one text, a whole CSV, an explanation (plain values, no gradio)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bertdemo import config
from bertdemo.errors import BertDemoError, Cancelled
from bertdemo.runs import access
from bertdemo.service.common import is_blank, need_file
from bertdemo.service.lowpriority import run_low_priority
from bertdemo.service.runs import load_run
from bertdemo.training.coreshare import note_serving, serving

# One file prediction at a time in this process. Gradio's concurrency limit frees its slot as soon as the caller
# goes away, while the work goes on in its thread: without this, closing and reopening a page starts another.
_FILE_SLOT = threading.Lock()
_SLOT_POLL_S = 0.2
GONE = "The page that asked for this prediction was closed or reloaded: the prediction was stopped."
NO_FILE = "No CSV file yet: upload the file to label (a column of texts; a column of labels too for accuracy)."


def predict(
    name: str, text: str, backend: str = "pytorch", root: Path | None = None, owner: str | None = None
) -> dict[str, Any]:
    """{label, probabilities: {label: p}} for one text, with a run this owner may use."""
    from bertdemo.inference.predictors import load_predictor

    if is_blank(name):
        raise BertDemoError("No model chosen: train one first, or pick a saved run.")
    if is_blank(text):
        raise BertDemoError("Type a text to classify.")
    key = access.check_visible(name, owner, root).name
    note_serving()  # a training job beside the app leaves it a core for a while
    with access.as_seen_by(name, owner, root):
        pred = load_predictor(key, backend, root).predict([text])
    probs = {lab: round(float(p), 6) for lab, p in zip(pred.label_names, pred.probabilities[0], strict=True)}
    return {"label": pred.labels[0], "probabilities": probs}


def csv_columns(
    csv_path: str | Path | None, name: str | None = None, root: Path | None = None, owner: str | None = None
) -> dict[str, Any]:
    """The columns of a CSV to label, and which ones would be used: {columns, text_column, label_column, notes}.

    With a run chosen, its own text and label column names come first, as predict_file picks them.
    """
    from bertdemo.data.csvread import open_table
    from bertdemo.inference.batchpredict import pick_columns

    path = need_file(csv_path, NO_FILE)
    run = {} if is_blank(name) else load_run(str(name), root, owner)
    notes: list[str] = []
    with open_table(path, max_rows=config.PREDICT_MAX_ROWS) as (head, _):
        ti, li = pick_columns(head, None, None, run, notes)
    return {
        "columns": head.columns,
        "text_column": head.columns[ti],
        "label_column": head.columns[li] if li is not None else None,
        "notes": head.notes + notes,
    }


def label_values(
    csv_path: str | Path | None, label_column: str | None, limit: int = config.LABEL_CHECK_ROWS
) -> list[str]:
    """The distinct labels in a column of a CSV to label (its first `limit` rows, read as training reads labels)."""
    from bertdemo.data.csvread import open_table
    from bertdemo.data.labeled import normalize_label

    if is_blank(label_column) or label_column == config.NO_COLUMN:
        return []
    path = need_file(csv_path, NO_FILE)
    found: set[str] = set()
    with open_table(path, max_rows=config.PREDICT_MAX_ROWS) as (head, rows):
        if label_column not in head.columns:
            return []
        index = head.columns.index(label_column)
        for i, row in enumerate(rows):
            if i >= limit:
                break
            if row[index].strip():
                found.add(normalize_label(row[index]))
    return sorted(found)


def run_exports(name: str | None, root: Path | None = None, owner: str | None = None) -> dict[str, Any]:
    """A run's classes and its export checks (accuracy of each back-end on the validation rows)."""
    if is_blank(name):
        return {"labels": [], "exports": {}}
    info = load_run(str(name), root, owner)  # the owner check, and a run deleted meanwhile answered as missing
    return {"labels": list(info.get("labels") or []), "exports": info.get("exports") or {}}


def backends(name: str | None, root: Path | None = None, owner: str | None = None) -> dict[str, Any]:
    """{choices: back-ends the run has, default: the fastest whose export check passed}."""
    from bertdemo.inference.batchpredict import fastest_backend
    from bertdemo.onnx.compare import available_backends

    if is_blank(name):
        return {"choices": list(config.BACKENDS[:1]), "default": config.BACKENDS[0]}
    key = access.check_visible(str(name), owner, root).name
    with access.as_seen_by(str(name), owner, root):
        return {"choices": available_backends(key, root), "default": fastest_backend(key, root)}


def predict_file(
    csv_path: str | Path | None,
    name: str | None,
    backend: str | None = None,
    text_column: str | None = None,
    label_column: str | None = None,
    root: Path | None = None,
    progress=None,
    owner: str | None = None,
    cancelled: threading.Event | None = None,
) -> dict[str, Any]:
    """Label every row of an uploaded CSV; the report's "out" is the result CSV (see batchpredict.predict_file).

    One at a time in this process; once `cancelled` is set, it stops at its next chunk (raises Cancelled).
    """
    from bertdemo.inference.batchpredict import predict_file as run

    path = need_file(csv_path, NO_FILE)
    if is_blank(name):
        raise BertDemoError("No model chosen: train one first, or pick a saved run.")
    key = access.check_visible(str(name), owner, root).name  # private runs: only their owner's
    stop = cancelled or threading.Event()

    def report(p: dict[str, Any]) -> None:
        if stop.is_set():  # called after every chunk: the worker ends here
            raise Cancelled(GONE)
        if progress is not None:
            progress(p)

    with _file_slot(stop), access.as_seen_by(str(name), owner, root), serving():
        return run_low_priority(  # the app's quick answers go first (service.lowpriority)
            run,
            key,
            path,
            backend=None if is_blank(backend) or backend == "auto" else str(backend).strip(),
            text_column=None if is_blank(text_column) else text_column,
            label_column=None if is_blank(label_column) else label_column,
            root=root,
            progress=report,
        )


@contextmanager
def _file_slot(cancelled: threading.Event) -> Iterator[None]:
    """Hold the one file-prediction slot; waits for a cancelled worker to reach its next chunk and stop."""
    while not _FILE_SLOT.acquire(timeout=_SLOT_POLL_S):
        if cancelled.is_set():
            raise Cancelled(GONE)
    try:
        yield
    finally:
        _FILE_SLOT.release()


class FilePrediction:
    """predict_file in a worker thread: progress to poll, and cancel() for when the page that asked goes away."""

    def __init__(
        self,
        csv_path: str | Path | None,
        name: str | None,
        backend: str | None = None,
        text_column: str | None = None,
        label_column: str | None = None,
        root: Path | None = None,
        owner: str | None = None,
    ):
        self.progress: dict[str, Any] = {}
        self._cancelled = threading.Event()
        self._outcome: dict[str, Any] = {}
        args = (csv_path, name, backend, text_column, label_column, root)
        self._thread = threading.Thread(target=self._work, args=(args, owner), name="predict-file", daemon=True)

    def start(self) -> None:
        """Start the worker."""
        self._thread.start()

    def cancel(self) -> None:
        """Stop at the next chunk (nothing is written under the result's name); a no-op once it ended."""
        self._cancelled.set()

    @property
    def running(self) -> bool:
        """True until the worker has ended (done, failed or cancelled)."""
        return self._thread.is_alive()

    def wait(self, timeout: float | None = None) -> None:
        """Wait until it ends, or `timeout` seconds."""
        self._thread.join(timeout)

    def result(self) -> dict[str, Any]:
        """The report (waits for the end); the worker's error is raised here."""
        self._thread.join()
        if "error" in self._outcome:
            raise self._outcome["error"]
        return self._outcome["report"]

    def _work(self, args: tuple, owner: str | None) -> None:
        try:
            self._outcome["report"] = predict_file(
                *args, progress=self.progress.update, owner=owner, cancelled=self._cancelled
            )
        except BaseException as exc:  # noqa: BLE001 - re-raised by result(), in the caller's thread
            self._outcome["error"] = exc


def explain(
    name: str | None, text: str | None, target: str | None = None, root: Path | None = None, owner: str | None = None
) -> dict[str, Any]:
    """Word and token scores of one text towards a class (the predicted one by default), and the prediction."""
    from bertdemo.inference.explain import explain as run

    if is_blank(name):
        raise BertDemoError("No model chosen: train one first, or pick a saved run.")
    if is_blank(text):
        raise BertDemoError("Type a text to explain.")
    key = access.check_visible(str(name), owner, root).name
    note_serving()
    with access.as_seen_by(str(name), owner, root):
        return run(key, str(text), target=None if is_blank(target) else str(target), root=root)
