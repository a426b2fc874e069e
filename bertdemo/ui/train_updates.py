"""What the Train tab's events return: gradio updates built from appapi and views."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import gradio as gr

from bertdemo import appapi, charts, store
from bertdemo.errors import BertDemoError
from bertdemo.ui import views
from bertdemo.ui.common import one_line

NO_DATA = "Upload a CSV file, or click **Use example data**."


def _show_data(path: str, report: dict[str, Any]) -> tuple:
    for warning in report.get("warnings") or []:
        gr.Warning(warning, duration=8)
    columns = report.get("columns") or []
    return (
        str(path),
        gr.Dropdown(choices=columns, value=report["text_column"]),
        gr.Dropdown(choices=columns, value=report["label_column"]),
        views.inspection_summary(report),
        gr.Plot(charts.class_balance_figure(report["class_counts"]), visible=True),
        gr.Dataframe(views.preview_frame(report), visible=True),
    )


def _hide_report(shown: bool) -> tuple:
    # Only what is on screen gets visible=False: Gradio 6.17's front-end keeps such an update for a
    # component never shown and applies it right after a later event shows it, hiding it again.
    return (gr.Plot(visible=False), gr.Dataframe(visible=False)) if shown else (gr.skip(), gr.skip())


def _bad_data(exc: BertDemoError, path: str | None, keep_columns: bool, shown: bool) -> tuple:
    message = one_line(str(exc))
    gr.Warning(message, duration=15)
    columns = gr.skip() if keep_columns else gr.Dropdown(choices=[], value=None)
    return (path, columns, columns, f"**This data cannot be used yet:** {message}", *_hide_report(shown))


def load_csv(path: str | None, previous: str | None = None) -> tuple:
    """A new file: detect the columns and show the report (a bad file shows why, in the page).

    `previous` is the file whose report is on screen, if any.
    """
    if not path:
        empty = gr.Dropdown(choices=[], value=None)
        return None, empty, empty, NO_DATA, *_hide_report(bool(previous))
    try:
        return _show_data(path, appapi.inspect(path))
    except BertDemoError as exc:
        return _bad_data(exc, None, keep_columns=False, shown=bool(previous))


def reinspect(path: str | None, text_column: str | None, label_column: str | None) -> tuple:
    """The user picked other columns: read the file again with them."""
    if not path:
        return load_csv(None)
    try:
        return _show_data(path, appapi.inspect(path, text_column, label_column))
    except BertDemoError as exc:
        return _bad_data(exc, path, keep_columns=True, shown=True)


def result_views(name: str, root: Path | None) -> tuple:
    """The results of a saved run: headline, per-class table, confusion matrix, mistakes (all made visible)."""
    info = store.load_run(name, root)
    matrix = charts.confusion_matrix_figure(info.get("confusion_matrix") or [], info.get("labels") or [])
    return (
        gr.Markdown(views.results_markdown(info), visible=True),
        gr.Dataframe(views.per_class_frame(info), visible=True),
        gr.Plot(matrix, visible=True),
        gr.Dataframe(views.mistakes_frame(info), visible=True),
    )


def hidden_results(shown: bool) -> tuple:
    """Hide the previous run's results, if any are on screen.

    Never send visible=False to a component that was never shown: Gradio 6.17's front-end keeps that
    update for it and applies it right after a later event mounts the component, hiding it again.
    """
    if not shown:
        return (gr.skip(),) * 4
    return gr.Markdown(visible=False), gr.Dataframe(visible=False), gr.Plot(visible=False), gr.Dataframe(visible=False)
