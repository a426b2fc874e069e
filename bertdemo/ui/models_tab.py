"""Models tab: the saved runs, with delete and download-as-zip."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import gradio as gr

from bertdemo import appapi
from bertdemo.ui import views
from bertdemo.ui.common import UI_EVENT, hide_file, run_choices, run_dropdown_update, ui_errors

# Runs in the browser before the Python handler: a cancelled confirm sends no name, and nothing happens.
_CONFIRM_DELETE = (
    "(name, zip) => [(name && confirm(`Delete the run '${name}'? This cannot be undone.`)) ? name : null, zip]"
)


def create_models_tab(root: Path | None = None) -> dict[str, Any]:
    """Build and wire the Models tab; returns its components."""
    c: dict[str, Any] = {}
    with gr.Tab("Models", id="models") as c["tab"]:
        gr.Markdown("Saved runs in the models folder, newest first. Click a row to select it.")
        c["table"] = gr.Dataframe(
            views.models_frame(appapi.list_models(root)),
            label="Saved runs",
            elem_id="bd-models",
            interactive=False,
            wrap=True,
            max_height=420,
            column_widths=["17%", "19%", "14%", "6%", "9%", "9%", "7%", "11%", "8%"],
        )
        c["run"] = gr.Dropdown(label="Selected run", choices=run_choices(root))
        with gr.Row():
            c["zip_btn"] = gr.Button("Download as zip", variant="primary")
            c["delete_btn"] = gr.Button("Delete run", variant="stop")
            c["refresh"] = gr.Button("Refresh list")
        c["zip_file"] = gr.File(
            label="Zip of the run (model, tokenizer, run.json, validation.csv)", visible=False, elem_id="bd-zip"
        )

    def refresh(keep: str | None = None):
        return views.models_frame(appapi.list_models(root)), run_dropdown_update(root, keep)

    def pick(evt: gr.SelectData):
        row = evt.row_value or []
        return row[0] if row else gr.skip()

    @ui_errors
    def make_zip(name: str | None):
        return gr.File(str(appapi.zip_run(name, root)), visible=True)

    @ui_errors
    def delete(name: str | None, current_zip: str | None):
        if not name:  # cancelled in the confirm dialog
            return gr.skip(), gr.skip(), gr.skip()
        appapi.delete_model(name, root)
        gr.Info(f"Deleted {name}.")
        return *refresh(), hide_file(current_zip)

    c["tab"].select(refresh, c["run"], [c["table"], c["run"]], **UI_EVENT)
    c["refresh"].click(refresh, c["run"], [c["table"], c["run"]], **UI_EVENT)
    c["table"].select(pick, None, c["run"], **UI_EVENT)
    c["zip_btn"].click(make_zip, c["run"], c["zip_file"], **UI_EVENT)
    c["delete_btn"].click(
        delete, [c["run"], c["zip_file"]], [c["table"], c["run"], c["zip_file"]], js=_CONFIRM_DELETE, **UI_EVENT
    )
    return c
