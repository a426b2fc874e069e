"""Export tab: a saved run to ONNX (plus optimized / int8 variants), each checked against PyTorch."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import gradio as gr

from bertdemo import appapi
from bertdemo.errors import BertDemoError
from bertdemo.ui import bench_views
from bertdemo.ui.common import HEAVY, UI_EVENT, hide_file, run_choices, run_dropdown_update, ui_errors


def create_export_tab(root: Path | None = None) -> dict[str, Any]:
    """Build and wire the Export tab; returns its components."""
    c: dict[str, Any] = {}
    with gr.Tab("Export", id="export") as c["tab"]:
        gr.Markdown(
            "Export a saved run to ONNX for ONNX Runtime. Every variant is run on the validation rows "
            "and checked against PyTorch: largest logit difference, label agreement, accuracy."
        )
        with gr.Row(equal_height=True):
            c["run"] = gr.Dropdown(label="Run", choices=run_choices(root), scale=3)
            with gr.Column(scale=2):
                c["optimize"] = gr.Checkbox(label="Also a graph-optimized variant (ORTOptimizer)", value=True)
                c["quantize"] = gr.Checkbox(
                    label="Also a dynamic int8 variant (ORTQuantizer: smaller, faster)", value=True
                )
            c["export_btn"] = gr.Button("Export to ONNX", variant="primary", scale=1)
        c["status"] = gr.Markdown()
        c["table"] = gr.Dataframe(
            bench_views.export_frame(None),
            label="Checks against PyTorch (validation rows)",
            interactive=False,
            elem_id="bd-export-checks",
        )
        c["zip_btn"] = gr.Button("Download ONNX files (zip)", interactive=False)
        c["download"] = gr.File(label="ONNX files (zip)", visible=False)

    def show_existing(name: str | None, current: str | None):
        """A run's earlier export, if it has one (its zip is made only when asked for: ~180 MB)."""
        if not name:
            return "", bench_views.export_frame(None), gr.Button(interactive=False), hide_file(current)
        try:
            exports = appapi.load_run(name, root).get("exports")
            if not exports:
                note = f"`{name}` has no ONNX export yet."
                return note, bench_views.export_frame(None), gr.Button(interactive=False), hide_file(current)
            return (
                f"`{name}` was exported before: these are its checks.",
                bench_views.export_frame(exports),
                gr.Button(interactive=True),
                hide_file(current),
            )
        except BertDemoError as exc:
            return f"**Error:** {exc}", bench_views.export_frame(None), gr.Button(interactive=False), hide_file(current)

    @ui_errors
    def download(name: str | None):
        return gr.File(str(appapi.zip_onnx(name, root)), visible=True)

    @ui_errors
    def export(name: str | None, optimize: bool, quantize: bool, progress=gr.Progress()):
        progress(0, desc="Starting the export")
        report = appapi.export(name, optimize, quantize, root, progress=lambda f, msg: progress(f, desc=msg))
        failed = [v for v, r in (report.get("variants") or {}).items() if not r.get("passed")]
        note = (
            f"**Exported, but** {', '.join(failed)} did not pass the check against PyTorch."
            if failed
            else f"**Exported** `{name}`: every variant matches PyTorch within tolerance."
        )
        zipped = gr.File(str(appapi.zip_onnx(name, root)), visible=True)
        return note, bench_views.export_frame(report), gr.Button(interactive=True), zipped

    def refresh(keep: str | None):
        return run_dropdown_update(root, keep)

    c["tab"].select(refresh, c["run"], c["run"], **UI_EVENT)
    shown = [c["status"], c["table"], c["zip_btn"], c["download"]]
    c["run"].change(show_existing, [c["run"], c["download"]], shown, **UI_EVENT)
    # Zipping reads ~180 MB: in the heavy group, like the export that writes them.
    c["zip_btn"].click(download, c["run"], c["download"], concurrency_limit=1, concurrency_id=HEAVY, **UI_EVENT)
    c["export_btn"].click(
        export,
        [c["run"], c["optimize"], c["quantize"]],
        shown,
        concurrency_limit=1,
        concurrency_id=HEAVY,
        **UI_EVENT,
    )
    return c
