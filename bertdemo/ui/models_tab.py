"""Models tab: the runs this browser sees (its own and the shared ones), with delete and download-as-zip."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import gradio as gr

from bertdemo import service
from bertdemo.errors import BertDemoError
from bertdemo.ui import views
from bertdemo.ui.common import (
    RUN_PICK,
    UI_EVENT,
    hide_file,
    no_run_notice,
    run_choices,
    run_dropdown_update,
    ui_errors,
)
from bertdemo.ui.models_views import contents_markdown

# Runs in the browser before the Python handler: a cancelled confirm sends no name, and nothing happens.
_CONFIRM_DELETE = (
    "(name, zip, owner, changed) => "
    "[(name && confirm(`Delete the run '${name}'? This cannot be undone.`)) ? name : null, zip, owner, changed]"
)


def create_models_tab(owner: gr.BrowserState, root: Path | None = None) -> dict[str, Any]:
    """Build and wire the Models tab; returns its components (c["runs_changed"] fires after a delete)."""
    c: dict[str, Any] = {}
    with gr.Tab("Models", id="models") as c["tab"]:
        # Inside the Tab: anything placed directly in gr.Tabs breaks its tab bar (Gradio 6.17).
        c["runs_changed"] = gr.State(0)  # bumped after a delete: every run dropdown of the page is refreshed
        gr.Markdown(
            "Your runs and the shared ones, newest first. Click a row to select it. Runs you train here are "
            "private to this browser; shared runs (shipped with the app or saved from the command line) are "
            "read-only."
        )
        no_run_notice(c, bool(run_choices(root)))
        c["table"] = gr.Dataframe(
            views.models_frame(service.list_models(root)),  # shared runs; the browser's own are added on load
            label="Saved runs",
            elem_id="bd-models",
            interactive=False,
            wrap=True,
            max_height=420,
            # One width per column (11): with one missing, "access" was pushed off-screen at 1280 px.
            # In MODEL_COLUMNS' order; on a phone page_style.PAGE_CSS gives each a minimum width and the table scrolls.
            column_widths=["14%", "8%", "10%", "8%", "8%", "11%", "5%", "6%", "14%", "8%", "8%"],
        )
        c["run"] = gr.Dropdown(label="Selected run", choices=run_choices(root), **RUN_PICK)
        with gr.Row(elem_id="bd-models-actions"):
            c["zip_btn"] = gr.Button("Download as zip", variant="primary")
            c["model_zip_btn"] = gr.Button("Download the model alone")
            c["delete_btn"] = gr.Button("Delete run", variant="stop", interactive=False)
            c["refresh"] = gr.Button("Refresh list")
        c["contents"] = gr.Markdown(elem_id="bd-zip-contents")  # what each zip holds, for the selected run
        c["zip_file"] = gr.File(label="Zip", visible=False, elem_id="bd-zip")

    def refresh(owner_id: str | None, keep: str | None = None):
        return views.models_frame(service.list_models(root, owner_id)), run_dropdown_update(root, keep, owner=owner_id)

    def pick(evt: gr.SelectData):
        row = evt.row_value or []
        return row[0] if row else gr.skip()

    def can_delete(owner_id: str | None, name: str | None):
        """Delete is offered for this browser's own runs only (shared ones are read-only)."""
        mine = {r["name"] for r in service.list_models(root, owner_id) if r["access"] == "yours"}
        return gr.Button(interactive=bool(name) and name in mine)

    @ui_errors
    def make_zip(owner_id: str | None, name: str | None):
        return gr.File(str(service.zip_run(name, root, owner_id)), visible=True, label="The whole run (zip)")

    @ui_errors
    def make_model_zip(owner_id: str | None, name: str | None):
        return gr.File(str(service.zip_model(name, root, owner_id)), visible=True, label="The model alone (zip)")

    def contents(owner_id: str | None, name: str | None):
        try:
            return contents_markdown(service.run_contents(name, root, owner_id))
        except BertDemoError:  # a run deleted meanwhile: its picker is refreshed by another event
            return ""

    @ui_errors
    def delete(name: str | None, current_zip: str | None, owner_id: str | None, changed: int):
        if not name:  # cancelled in the confirm dialog
            return gr.skip(), gr.skip(), gr.skip(), gr.skip()
        service.delete_model(name, root, owner_id)
        gr.Info(f"Deleted {name}.")
        return *refresh(owner_id), hide_file(current_zip), changed + 1

    listing = [c["table"], c["run"]]
    c["tab"].select(refresh, [owner, c["run"]], listing, **UI_EVENT)
    c["refresh"].click(refresh, [owner, c["run"]], listing, **UI_EVENT)
    c["table"].select(pick, None, c["run"], **UI_EVENT)
    c["run"].change(can_delete, [owner, c["run"]], c["delete_btn"], **UI_EVENT)
    c["run"].change(contents, [owner, c["run"]], c["contents"], **UI_EVENT)
    c["model_zip_btn"].click(make_model_zip, [owner, c["run"]], c["zip_file"], **UI_EVENT)
    # Said at once (before the queue), so one click is enough: zipping a run of ~90 MB takes seconds.
    c["zip_btn"].click(
        lambda: gr.Button("Zipping the run…", interactive=False), None, c["zip_btn"], queue=False, **UI_EVENT
    ).then(make_zip, [owner, c["run"]], c["zip_file"], **UI_EVENT).then(
        lambda: gr.Button("Download as zip", interactive=True), None, c["zip_btn"], **UI_EVENT
    )
    c["delete_btn"].click(
        delete,
        [c["run"], c["zip_file"], owner, c["runs_changed"]],
        [*listing, c["zip_file"], c["runs_changed"]],
        js=_CONFIRM_DELETE,
        **UI_EVENT,
    )
    c["refresh_all"] = refresh  # build_app refreshes this tab with every other run list
    c["needs_run"] = [c["zip_btn"], c["model_zip_btn"]]  # disabled while this browser sees no run (build_app)
    return c
