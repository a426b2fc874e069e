"""Predictions from the app: one text, a whole CSV, an explanation (plain values, no gradio)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bertdemo import config
from bertdemo.errors import BertDemoError
from bertdemo.runs import access
from bertdemo.service.common import is_blank, need_file


def predict(
    name: str, text: str, backend: str = "pytorch", root: Path | None = None, owner: str | None = None
) -> dict[str, Any]:
    """{label, probabilities: {label: p}} for one text, with a run this owner may use."""
    from bertdemo.inference.predictors import load_predictor

    if is_blank(name):
        raise BertDemoError("No model chosen: train one first, or pick a saved run.")
    if is_blank(text):
        raise BertDemoError("Type a text to classify.")
    access.check_visible(name, owner, root)
    pred = load_predictor(name, backend, root).predict([text])
    probs = {lab: round(float(p), 6) for lab, p in zip(pred.label_names, pred.probabilities[0], strict=True)}
    return {"label": pred.labels[0], "probabilities": probs}


def csv_columns(csv_path: str | Path | None) -> dict[str, Any]:
    """The columns of a CSV to label, and which ones would be used: {columns, text_column, label_column, notes}."""
    from bertdemo.data.csvstream import open_csv
    from bertdemo.inference.batchpredict import pick_label_column, pick_text_column

    path = need_file(csv_path)
    notes: list[str] = []
    with open_csv(path) as (head, _):
        ti = pick_text_column(head, None, notes)
        li = pick_label_column(head, ti, None)
    return {
        "columns": head.columns,
        "text_column": head.columns[ti],
        "label_column": head.columns[li] if li is not None else None,
        "notes": notes,
    }


def label_values(
    csv_path: str | Path | None, label_column: str | None, limit: int = config.LABEL_CHECK_ROWS
) -> list[str]:
    """The distinct labels in a column of a CSV to label (its first `limit` rows): checked before scoring."""
    from bertdemo.data.csvstream import open_csv

    if is_blank(label_column) or label_column == config.NO_COLUMN:
        return []
    path = need_file(csv_path)
    found: set[str] = set()
    with open_csv(path) as (head, rows):
        if label_column not in head.columns:
            return []
        index = head.columns.index(label_column)
        for i, row in enumerate(rows):
            if i >= limit:
                break
            if row[index].strip():
                found.add(row[index].strip())
    return sorted(found)


def run_exports(name: str | None, root: Path | None = None, owner: str | None = None) -> dict[str, Any]:
    """A run's classes and its export checks (accuracy of each back-end on the validation rows)."""
    from bertdemo.runs.store import load_run

    if is_blank(name):
        return {"labels": [], "exports": {}}
    access.check_visible(str(name), owner, root)
    info = load_run(str(name), root)
    return {"labels": list(info.get("labels") or []), "exports": info.get("exports") or {}}


def backends(name: str | None, root: Path | None = None, owner: str | None = None) -> dict[str, Any]:
    """{choices: back-ends the run has, default: the fastest whose export check passed}."""
    from bertdemo.inference.batchpredict import fastest_backend
    from bertdemo.onnx.compare import available_backends

    if is_blank(name):
        return {"choices": list(config.BACKENDS[:1]), "default": config.BACKENDS[0]}
    access.check_visible(str(name), owner, root)
    return {"choices": available_backends(name, root), "default": fastest_backend(name, root)}


def predict_file(
    csv_path: str | Path | None,
    name: str | None,
    backend: str | None = None,
    text_column: str | None = None,
    label_column: str | None = None,
    root: Path | None = None,
    progress=None,
    owner: str | None = None,
) -> dict[str, Any]:
    """Label every row of an uploaded CSV; the report's "out" is the result CSV (see batchpredict.predict_file)."""
    from bertdemo.inference.batchpredict import predict_file as run

    path = need_file(csv_path)
    if is_blank(name):
        raise BertDemoError("No model chosen: train one first, or pick a saved run.")
    access.check_visible(str(name), owner, root)  # private runs: only their owner's
    return run(
        name,
        path,
        backend=None if is_blank(backend) or backend == "auto" else str(backend).strip(),
        text_column=None if is_blank(text_column) else text_column,
        label_column=None if is_blank(label_column) else label_column,
        root=root,
        progress=progress,
    )


def explain(
    name: str | None, text: str | None, target: str | None = None, root: Path | None = None, owner: str | None = None
) -> dict[str, Any]:
    """Word and token scores of one text towards a class (the predicted one by default), and the prediction."""
    from bertdemo.inference.explain import explain as run

    if is_blank(name):
        raise BertDemoError("No model chosen: train one first, or pick a saved run.")
    if is_blank(text):
        raise BertDemoError("Type a text to explain.")
    access.check_visible(str(name), owner, root)
    return run(str(name), str(text), target=None if is_blank(target) else str(target), root=root)
