"""What the Train tab's events return: gradio updates built from the service layer and views."""

from __future__ import annotations

from typing import Any

import gradio as gr

from bertdemo import config, service
from bertdemo.errors import BertDemoError, RunNotFound
from bertdemo.ui import charts, views
from bertdemo.ui.common import one_line
from bertdemo.ui.html_tables import frame_table

NO_DATA = "Upload a CSV file, or click **Use example data**."


def _show_data(path: str, report: dict[str, Any]) -> tuple:
    # Warnings are listed in the report itself: toasts would pile up over it with every new pick.
    columns = report.get("columns") or []
    return (
        str(path),
        gr.Dropdown(choices=columns, value=report["text_column"]),
        gr.Dropdown(choices=columns, value=report["label_column"]),
        views.inspection_summary(report),
        gr.Plot(charts.class_balance_figure(report["class_counts"]), visible=True),
        gr.Dataframe(
            views.preview_frame(report),
            visible=True,
            column_widths=views.column_widths(columns, report.get("text_column")),
        ),
        True,
    )


def _hide_report(shown: bool) -> tuple:
    # Only what is on screen gets visible=False: Gradio 6.17's front-end keeps such an update for a
    # component never shown and applies it right after a later event shows it, hiding it again.
    return (gr.Plot(visible=False), gr.Dataframe(visible=False)) if shown else (gr.skip(), gr.skip())


def _bad_data(exc: BertDemoError, path: str, picked: tuple[str | None, str | None], shown: bool) -> tuple:
    """The file is kept (so Train explains the same problem, and columns can be picked by hand); the dropdowns
    list every column of the file and show the columns it was read with, picked or detected."""
    message = one_line(str(exc))
    columns = service.file_columns(path)
    text, label = service.detected_columns(path, *picked)
    summary = views.refused_data_markdown(message, text, label, picked=any(picked), can_pick=len(columns) >= 2)
    return (
        path,
        gr.Dropdown(choices=columns, value=text),
        gr.Dropdown(choices=columns, value=label),
        summary,
        *_hide_report(shown),
        False,
    )


def load_csv(path: str | None, shown: bool = False) -> tuple:
    """A new file: detect the columns and show the report (a bad file shows why, in the page).

    `shown`: a report's chart and preview are on screen. The last value returned is that flag, updated.
    """
    if not path:
        empty = gr.Dropdown(choices=[], value=None)
        return None, empty, empty, NO_DATA, *_hide_report(shown), False
    try:
        return _show_data(path, service.inspect(path))
    except BertDemoError as exc:
        return _bad_data(exc, path, (None, None), shown)


def reinspect(path: str | None, text_column: str | None, label_column: str | None, shown: bool = False) -> tuple:
    """The user picked other columns: read the file again with them."""
    if not path:
        return load_csv(None, shown)
    try:
        return _show_data(path, service.inspect(path, text_column, label_column))
    except BertDemoError as exc:
        return _bad_data(exc, path, (text_column, label_column), shown)


def result_views(info: dict[str, Any]) -> tuple:
    """The results of a saved run (its run.json): headline, per-class table, confusion matrix, mistakes (visible)."""
    matrix = charts.confusion_matrix_figure(info.get("confusion_matrix") or [], info.get("labels") or [])
    return (
        gr.Markdown(views.results_markdown(info), visible=True),
        gr.HTML(frame_table(views.per_class_frame(info), title="Per class (validation)"), visible=True),
        gr.Plot(matrix, visible=True),
        gr.HTML(_mistakes_table(info), visible=True),
    )


def _mistakes_table(info: dict[str, Any]) -> str:
    """The labels first and the text last (cut, whole on a click): on a phone the labels are what fits."""
    frame = views.mistakes_frame(info)
    frame = frame[[c for c in frame.columns if c != "text"] + ["text"]]
    title = "Validation rows it got wrong (most confident first)"
    return frame_table(frame, ("text",), "No validation row was wrong.", title=title)


def hidden_results(shown: bool) -> tuple:
    """Hide the previous run's results, if any are on screen.

    Never send visible=False to a component that was never shown: Gradio 6.17's front-end keeps that
    update for it and applies it right after a later event mounts the component, hiding it again.
    """
    if not shown:
        return (gr.skip(),) * 4
    return gr.Markdown(visible=False), gr.HTML(visible=False), gr.Plot(visible=False), gr.HTML(visible=False)


def others_job(runner: service.JobRunner, owner_id: str | None) -> dict[str, Any] | None:
    """The status of a training that runs for another browser or API caller, if one does."""
    job_id = runner.active_job()
    if not job_id or runner.active_job(owner_id or "") == job_id:
        return None
    try:
        return runner.status(job_id)
    except RunNotFound:  # ended and forgotten between the two calls
        return None


def default_form(keys: tuple[str, ...]) -> tuple:
    """The form as a fresh page has it: only the run name is new (the rest keeps its defaults)."""
    columns = (gr.skip(), gr.skip())
    return gr.skip(), service.default_run_name(config.DEFAULT_MODEL), *columns, *(gr.skip() for _ in keys)


def form_values(request, keys: tuple[str, ...], keep_name: bool) -> tuple:
    """The form filled in with the settings of the job a reloaded page re-attached to.

    `keep_name`: the job still runs, so its name is shown; a finished job's name is taken, a new one is offered.
    """

    def value(key: str):
        v = getattr(request, key, None)
        if key in ("learning_rate", "batch_size", "epochs", "max_length") and v is None:
            return 0  # 0 = chosen for the data size, as the form says
        return gr.skip() if v is None else v

    def column(name: str | None):
        return gr.Dropdown(choices=[name], value=name) if name else gr.skip()

    return (
        request.model,
        request.name if keep_name else service.default_run_name(request.model),
        column(request.text_column),
        column(request.label_column),
        *(value(k) for k in keys),
    )
