"""Charts tab: per-epoch curves of one or more saved runs, overlaid, with their settings side by side."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import gradio as gr

from bertdemo import service
from bertdemo.ui import charts, views
from bertdemo.ui.common import RUN_PICK, UI_EVENT, run_choices, run_dropdown_update, ui_errors


def create_charts_tab(owner: gr.BrowserState, root: Path | None = None) -> dict[str, Any]:
    """Build and wire the Charts tab; returns its components."""
    c: dict[str, Any] = {}
    with gr.Tab("Charts", id="charts") as c["tab"]:
        gr.Markdown(
            "Pick one or more saved runs to overlay their training curves (loss on the left, validation "
            "accuracy and macro-F1 on the right)."
        )
        # The list is refreshed each time the tab is opened.
        c["runs"] = gr.Dropdown(
            label="Runs", choices=run_choices(root), multiselect=True, elem_id="bd-chart-runs", **RUN_PICK
        )
        c["plot"] = gr.Plot(show_label=False, elem_id="bd-chart-plot")
        c["params"] = gr.Dataframe(
            views.params_frame({}), label="Settings and scores", interactive=False, wrap=True, max_height=700
        )

    @ui_errors
    def show(owner_id: str | None, names: list[str] | None):
        known = set(run_choices(root, owner_id))
        infos = {name: service.load_run(name, root, owner_id) for name in names or [] if name in known}
        histories = {name: info.get("history") or [] for name, info in infos.items()}
        title = "Training curves" if infos else "Pick a run above"
        return charts.training_curves(histories, title=title), views.params_frame(infos)

    def refresh(owner_id: str | None, keep: list[str] | None):
        return run_dropdown_update(root, keep, multiselect=True, owner=owner_id)

    c["runs"].change(show, [owner, c["runs"]], [c["plot"], c["params"]], **UI_EVENT)
    c["tab"].select(refresh, [owner, c["runs"]], c["runs"], **UI_EVENT)
    c["refresh_all"] = refresh  # build_app refreshes this tab with every other run list
    return c
