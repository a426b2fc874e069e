"""What the Predict tab and the /predict_file and /explain endpoints do, as plain functions (no gradio)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bertdemo import access, config
from bertdemo.appapi import _blank, _need_file
from bertdemo.errors import BertDemoError


def csv_columns(csv_path: str | Path | None) -> dict[str, Any]:
    """The columns of a CSV to label, and which ones would be used: {columns, text_column, label_column, notes}."""
    from bertdemo.batchpredict import pick_label_column, pick_text_column
    from bertdemo.csvstream import open_csv

    path = _need_file(csv_path)
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


def backends(name: str | None, root: Path | None = None, owner: str | None = None) -> dict[str, Any]:
    """{choices: back-ends the run has, default: the fastest whose export check passed}."""
    from bertdemo.batchpredict import fastest_backend
    from bertdemo.benchmark import available_backends

    if _blank(name):
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
    from bertdemo.batchpredict import predict_file as run

    path = _need_file(csv_path)
    if _blank(name):
        raise BertDemoError("No model chosen: train one first, or pick a saved run.")
    access.check_visible(str(name), owner, root)  # private runs: only their owner's
    return run(
        name,
        path,
        backend=None if _blank(backend) or backend == "auto" else str(backend).strip(),
        text_column=None if _blank(text_column) else text_column,
        label_column=None if _blank(label_column) else label_column,
        root=root,
        progress=progress,
    )


def explain(
    name: str | None, text: str | None, target: str | None = None, root: Path | None = None, owner: str | None = None
) -> dict[str, Any]:
    """Word and token scores of one text towards a class (the predicted one by default), and the prediction."""
    from bertdemo.explain import explain as run

    if _blank(name):
        raise BertDemoError("No model chosen: train one first, or pick a saved run.")
    if _blank(text):
        raise BertDemoError("Type a text to explain.")
    access.check_visible(str(name), owner, root)
    return run(str(name), str(text), target=None if _blank(target) else str(target), root=root)
