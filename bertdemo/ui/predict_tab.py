"""Predict tab: label a whole CSV with a saved run, with progress and ETA, a preview, scores and a download."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import gradio as gr

from bertdemo import config, service
from bertdemo.ui import charts, views
from bertdemo.ui.common import (
    HEAVY,
    RUN_PICK,
    UI_EVENT,
    hide_file,
    no_run_notice,
    run_choices,
    run_dropdown_update,
    ui_errors,
)
from bertdemo.ui.predict_views import (
    backend_choice_label,
    backend_cost_markdown,
    label_check_markdown,
    preview_frame,
    progress_text,
    summary_markdown,
)

POLL_S = 0.5  # how often the progress line is refreshed while a file is predicted

INTRO = (
    f"Label every row of a CSV with a saved run. Files up to **{config.MAX_UPLOAD_MB} MB** and "
    f"**{config.PREDICT_MAX_ROWS:,} rows**; rows stream through the model in chunks of "
    f"{config.PREDICT_CHUNK_ROWS}, so memory stays flat. The result has your columns plus "
    f"`{config.PREDICTED_COLUMN}` and one `{config.PROBABILITY_PREFIX}<class>` column per class; rows without "
    "text get an empty prediction. When the file has labels too, accuracy and the confusion matrix are shown."
)


def create_predict_tab(owner: gr.BrowserState, root: Path | None = None) -> dict[str, Any]:
    """Build and wire the Predict tab; returns its components."""
    c: dict[str, Any] = {}
    with gr.Tab("Predict", id="predict") as c["tab"]:
        gr.Markdown(INTRO)
        no_run_notice(c, bool(run_choices(root)))
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
                # Filled once the browser's owner id is known.
                c["run"] = gr.Dropdown(label="Run", choices=[], **RUN_PICK)
                c["backend"] = gr.Dropdown(
                    label="Back-end (default: the fastest whose export check passed)",
                    choices=list(config.BACKENDS[:1]),
                    value=config.BACKENDS[0],
                )
                c["predict_btn"] = gr.Button("Predict the file", variant="primary")
        c["backend_note"] = gr.Markdown(elem_id="bd-predict-backend")  # which back-end, what it costs in accuracy
        c["label_check"] = gr.Markdown(elem_id="bd-predict-check")  # the file's labels against the run's classes
        c["status"] = gr.Markdown(elem_id="bd-predict-status")
        with gr.Row(equal_height=False):
            c["download"] = gr.File(label="Predictions (CSV)", visible=False, elem_id="bd-predictions")
            c["confusion"] = gr.Plot(show_label=False, visible=False)
        c["preview"] = gr.Dataframe(
            label="Preview (first rows of the result)",
            interactive=False,
            wrap=True,
            visible=False,
            max_height=360,
            elem_id="bd-predict-preview",
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
        """The run's back-ends, each with its accuracy against PyTorch's; the fastest that passed is picked."""
        info = service.backends(name, root, owner=owner_id)
        exports = service.run_exports(name, root, owner_id)["exports"]
        choices = [(backend_choice_label(b, exports), b) for b in info["choices"]]
        return gr.Dropdown(choices=choices, value=info["default"])

    @ui_errors
    def backend_note(owner_id: str | None, name: str | None, backend: str | None):
        if not name:
            return ""
        default = service.backends(name, root, owner=owner_id)["default"]
        return backend_cost_markdown(backend, default, service.run_exports(name, root, owner_id)["exports"])

    @ui_errors
    def label_check(owner_id: str | None, csv: str | None, name: str | None, label_column: str | None):
        """Before scoring: do the file's labels name the run's classes?"""
        if not csv or not name or not label_column or label_column == config.NO_COLUMN:
            return ""
        known = service.run_exports(name, root, owner_id)["labels"]
        return label_check_markdown(service.label_values(csv, label_column), known, label_column)

    @ui_errors
    def predict(owner_id, csv, name, backend, text_column, label_column, current_file):
        job = service.FilePrediction(csv, name, backend, text_column, label_column, root, owner_id)
        job.start()
        try:
            # The last result's plot and preview stay until replaced: hiding a never-shown component in Gradio 6
            # makes a later visible=True update of it not show (seen on this tab after the other tabs were wired).
            yield progress_text(None, backend), hide_file(current_file), gr.skip(), gr.skip()
            while job.running:
                job.wait(POLL_S)
                yield progress_text(dict(job.progress), backend), gr.skip(), gr.skip(), gr.skip()
            report = job.result()
        finally:
            # The page was closed or reloaded (Gradio closes this generator): the worker stops at its next chunk,
            # and the next prediction waits for it, so nobody piles up workers by reloading.
            job.cancel()
        m = report.get("metrics") or report.get("metrics_seen")  # every row trained on: its matrix, titled so
        title = "Confusion matrix" if report.get("metrics") else "Confusion matrix (rows it trained on)"
        figure = charts.confusion_matrix_figure(m["confusion_matrix"], m["labels"], title) if m else None
        yield (
            summary_markdown(report),
            gr.File(report["out"], visible=True),
            gr.Plot(figure, visible=True) if figure else gr.Plot(visible=False),
            _preview(report),
        )

    def _preview(report: dict[str, Any]):
        frame = preview_frame(report["preview"], report.get("text_column"))
        widths = views.column_widths(list(frame.columns), report.get("text_column"))
        return gr.Dataframe(frame, visible=True, column_widths=widths)

    def refresh(owner_id: str | None, keep: str | None):
        return run_dropdown_update(root, keep, owner=owner_id)

    c["tab"].select(refresh, [owner, c["run"]], c["run"], **UI_EVENT)
    c["refresh_all"] = refresh  # build_app refreshes this tab with every other run list
    c["needs_run"] = [c["predict_btn"]]  # disabled while this browser sees no run (build_app)
    c["csv_file"].change(columns, c["csv_file"], [c["text_column"], c["label_column"]], **UI_EVENT)
    c["run"].change(backends, [owner, c["run"]], c["backend"], **UI_EVENT)
    c["backend"].change(backend_note, [owner, c["run"], c["backend"]], c["backend_note"], **UI_EVENT)
    check_in = [owner, c["csv_file"], c["run"], c["label_column"]]
    c["label_column"].change(label_check, check_in, c["label_check"], **UI_EVENT)
    c["run"].change(label_check, check_in, c["label_check"], **UI_EVENT)
    c["predict_btn"].click(
        predict,
        [owner, c["csv_file"], c["run"], c["backend"], c["text_column"], c["label_column"], c["download"]],
        [c["status"], c["download"], c["confusion"], c["preview"]],
        concurrency_limit=1,
        concurrency_id=HEAVY,
        **UI_EVENT,
    )
    return c
