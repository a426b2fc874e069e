"""Predict tab: label a whole CSV with a saved run, with progress and ETA, a preview, scores and a download."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import gradio as gr
import pandas as pd

from bertdemo import config, service
from bertdemo.ui import charts
from bertdemo.ui.common import HEAVY, UI_EVENT, hide_file, run_dropdown_update, ui_errors

POLL_S = 0.5  # how often the progress line is refreshed while a file is predicted

INTRO = (
    f"Label every row of a CSV with a saved run. Files up to **{config.MAX_UPLOAD_MB} MB** and "
    f"**{config.PREDICT_MAX_ROWS:,} rows**; rows stream through the model in chunks of "
    f"{config.PREDICT_CHUNK_ROWS}, so memory stays flat. The result has your columns plus "
    f"`{config.PREDICTED_COLUMN}` and one `{config.PROBABILITY_PREFIX}<class>` column per class; rows without "
    "text get an empty prediction. When the file has labels too, accuracy and the confusion matrix are shown."
)


def progress_text(p: dict[str, Any] | None, backend: str) -> str:
    """The progress line: rows done of all, rate, ETA."""
    if not p:
        return f"Reading the file and loading the {backend or 'fastest'} back-end..."
    eta = f", ETA {p['eta']:.0f} s" if p.get("eta") is not None else ""
    share = p["done"] / p["total"] if p["total"] else 0.0
    return f"Predicting: **{p['done']:,} / {p['total']:,} rows** ({share:.0%}), {p['rows_per_second']:.1f} rows/s{eta}"


def summary_markdown(report: dict[str, Any]) -> str:
    """What was done, and the scores when the file has labels."""
    lines = [
        f"**Done:** {report['predicted']:,} of {report['rows']:,} rows predicted with **{report['backend']}** "
        f"in {report['seconds']:.1f} s ({report['texts_per_second'] or 0:.1f} texts/s; loading "
        f"{report['load_seconds']:.1f} s). Text column `{report['text_column']}`."
    ]
    m = report.get("metrics")
    if m:
        lines.append(
            f"**Accuracy {m['accuracy']:.4f}**, macro-F1 {m['f1_macro']:.4f} on {m['scored_rows']:,} rows "
            f"labeled in column `{m['label_column']}`."
        )
    lines += [f"- {note}" for note in report.get("notes") or []]
    return "\n\n".join(lines)


def create_predict_tab(owner: gr.BrowserState, root: Path | None = None) -> dict[str, Any]:
    """Build and wire the Predict tab; returns its components."""
    c: dict[str, Any] = {}
    with gr.Tab("Predict", id="predict") as c["tab"]:
        gr.Markdown(INTRO)
        with gr.Row(equal_height=False):
            with gr.Column(scale=3):
                c["csv_file"] = gr.File(
                    label="CSV to label", file_types=[".csv", ".gz", ".tsv", ".txt"], height=120, elem_id="bd-pcsv"
                )
                with gr.Row():
                    c["text_column"] = gr.Dropdown(label="Text column", choices=[], interactive=True)
                    c["label_column"] = gr.Dropdown(
                        label="Label column (for accuracy)", choices=[config.NO_COLUMN], interactive=True
                    )
            with gr.Column(scale=2):
                c["run"] = gr.Dropdown(label="Run", choices=[])  # filled once the browser's owner id is known
                c["backend"] = gr.Dropdown(
                    label="Back-end (default: the fastest whose export check passed)",
                    choices=list(config.BACKENDS[:1]),
                    value=config.BACKENDS[0],
                )
                c["predict_btn"] = gr.Button("Predict the file", variant="primary")
        c["status"] = gr.Markdown(elem_id="bd-predict-status")
        with gr.Row(equal_height=False):
            c["download"] = gr.File(label="Predictions (CSV)", visible=False, elem_id="bd-predictions")
            c["confusion"] = gr.Plot(show_label=False, visible=False)
        c["preview"] = gr.Dataframe(
            label="Preview (first rows of the result)", interactive=False, wrap=True, visible=False, max_height=360
        )

    @ui_errors
    def columns(csv: str | None):
        if not csv:
            return gr.Dropdown(choices=[], value=None), gr.Dropdown(choices=[config.NO_COLUMN], value=config.NO_COLUMN)
        info = service.csv_columns(csv)
        label = info["label_column"] or config.NO_COLUMN
        return (
            gr.Dropdown(choices=info["columns"], value=info["text_column"]),
            gr.Dropdown(choices=[config.NO_COLUMN, *info["columns"]], value=label),
        )

    @ui_errors
    def backends(owner_id: str | None, name: str | None):
        info = service.backends(name, root, owner=owner_id)
        return gr.Dropdown(choices=info["choices"], value=info["default"])

    @ui_errors
    def predict(owner_id, csv, name, backend, text_column, label_column, current_file):
        latest: dict[str, Any] = {}
        outcome: dict[str, Any] = {}

        def work() -> None:
            try:
                outcome["report"] = service.predict_file(
                    csv, name, backend, text_column, label_column, root, progress=latest.update, owner=owner_id
                )
            except BaseException as exc:  # re-raised in the handler, where ui_errors shows it
                outcome["error"] = exc

        worker = threading.Thread(target=work, name="predict-file", daemon=True)
        worker.start()
        # The last result's plot and preview stay until replaced: hiding a never-shown component in Gradio 6
        # makes a later visible=True update of it not show (seen on this tab after the other tabs were wired).
        yield progress_text(None, backend), hide_file(current_file), gr.skip(), gr.skip()
        while worker.is_alive():
            worker.join(POLL_S)
            yield progress_text(dict(latest), backend), gr.skip(), gr.skip(), gr.skip()
        if "error" in outcome:
            raise outcome["error"]
        report = outcome["report"]
        m = report.get("metrics")
        figure = charts.confusion_matrix_figure(m["confusion_matrix"], m["labels"], "Confusion matrix") if m else None
        yield (
            summary_markdown(report),
            gr.File(report["out"], visible=True),
            gr.Plot(figure, visible=True) if figure else gr.Plot(visible=False),
            gr.Dataframe(pd.DataFrame(report["preview"]), visible=True),
        )

    def refresh(owner_id: str | None, keep: str | None):
        return run_dropdown_update(root, keep, owner=owner_id)

    c["tab"].select(refresh, [owner, c["run"]], c["run"], **UI_EVENT)
    c["refresh_all"] = refresh  # build_app refreshes this tab with every other run list
    c["csv_file"].change(columns, c["csv_file"], [c["text_column"], c["label_column"]], **UI_EVENT)
    c["run"].change(backends, [owner, c["run"]], c["backend"], **UI_EVENT)
    c["predict_btn"].click(
        predict,
        [owner, c["csv_file"], c["run"], c["backend"], c["text_column"], c["label_column"], c["download"]],
        [c["status"], c["download"], c["confusion"], c["preview"]],
        concurrency_limit=1,
        concurrency_id=HEAVY,
        **UI_EVENT,
    )
    return c
