"""Export tab: a saved run to ONNX (plus optimized / int8 variants), each checked against PyTorch."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import gradio as gr

from bertdemo import service
from bertdemo.errors import BertDemoError
from bertdemo.ui import bench_views
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

_ALL = ("every variant, one zip", "all")


def create_export_tab(owner: gr.BrowserState, root: Path | None = None) -> dict[str, Any]:
    """Build and wire the Export tab; returns its components."""
    c: dict[str, Any] = {}
    with gr.Tab("Export", id="export") as c["tab"]:
        gr.Markdown(
            "Export a saved run to ONNX for ONNX Runtime. Every variant is run on the validation rows "
            "and checked against PyTorch: largest logit difference, label agreement, accuracy."
        )
        no_run_notice(c, bool(run_choices(root)))
        with gr.Row(equal_height=True):
            c["run"] = gr.Dropdown(label="Run", choices=run_choices(root), scale=3, **RUN_PICK)
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
        c["note"] = gr.Markdown(elem_id="bd-export-note")  # what "passed" means for each variant
        with gr.Row(equal_height=False):
            c["variant"] = gr.Dropdown(
                label="Download",
                choices=[_ALL],
                value="all",
                scale=2,
                min_width=340,  # "every variant, one zip (180 MB of models)" whole, also next to the file
                info="Every variant in one zip, or just one (with its config and tokenizer).",
                elem_id="bd-export-variant",
            )
            c["zip_btn"] = gr.Button("Download", interactive=False, scale=1, elem_id="bd-export-zip-btn")
            c["download"] = gr.File(label="ONNX files (zip)", visible=False, scale=2, elem_id="bd-export-zip")

    def downloads(exports: dict[str, Any] | None, keep: str | None):
        """The download choices of a run's export, sizes included; the current pick kept when still there."""
        variants = (exports or {}).get("variants") or {}
        total = sum(v.get("size_mb") or 0 for v in variants.values())
        choices = [(f"every variant, one zip ({total:.0f} MB of models)", "all")] if variants else [_ALL]
        choices += [(f"{n} only ({v.get('size_mb') or 0:.0f} MB)", n) for n, v in variants.items()]
        value = keep if keep in {v for _, v in choices} else "all"
        return gr.Dropdown(choices=choices, value=value), value

    def show_existing(owner_id: str | None, name: str | None, current: str | None, keep: str | None):
        """A run's earlier export, if it has one (its zip is made only when asked for: up to ~180 MB)."""
        off = gr.Button(interactive=False)
        empty = (
            "",
            bench_views.export_frame(None),
            "",
            gr.Dropdown(choices=[_ALL], value="all"),
            off,
            hide_file(current),
        )
        if not name:
            return empty
        try:
            exports = service.load_run(name, root, owner_id).get("exports")
            if not exports:
                return (f"`{name}` has no ONNX export yet.", *empty[1:])
            picker, _ = downloads(exports, keep)
            return (
                f"`{name}` was exported before: these are its checks.",
                bench_views.export_frame(exports),
                bench_views.export_note(exports),
                picker,
                gr.Button(interactive=True),
                hide_file(current),
            )
        except BertDemoError as exc:
            return (f"**Error:** {exc}", *empty[1:])

    @ui_errors
    def export(
        owner_id: str | None, name: str | None, optimize: bool, quantize: bool, keep: str | None, progress=gr.Progress()
    ):
        progress(0, desc="Starting the export")
        report = service.export(
            name, optimize, quantize, root, progress=lambda f, msg: progress(f, desc=msg), owner=owner_id
        )
        failed = [v for v, r in (report.get("variants") or {}).items() if not r.get("passed")]
        note = (
            f"**Exported, but** {', '.join(failed)} did not pass the check against PyTorch."
            if failed
            else f"**Exported** `{name}`: every variant passed its check against PyTorch (see below)."
        )
        picker, variant = downloads(report, keep)
        zipped = service.zip_onnx(name, root, owner_id, variant)
        return (
            note,
            bench_views.export_frame(report),
            bench_views.export_note(report),
            picker,
            gr.Button(interactive=True),
            gr.File(str(zipped), visible=True),
        )

    @ui_errors
    def download(owner_id: str | None, name: str | None, variant: str | None):
        return gr.File(str(service.zip_onnx(name, root, owner_id, variant)), visible=True)

    def refresh(owner_id: str | None, keep: str | None):
        return run_dropdown_update(root, keep, owner=owner_id)

    shown = [c["status"], c["table"], c["note"], c["variant"], c["zip_btn"], c["download"]]
    existing_in = [owner, c["run"], c["download"], c["variant"]]
    # Opening the tab shows the picked run's checks too: a run picked before (no change event) showed none.
    c["tab"].select(refresh, [owner, c["run"]], c["run"], **UI_EVENT).then(
        show_existing, existing_in, shown, **UI_EVENT
    )
    c["run"].change(show_existing, existing_in, shown, **UI_EVENT)
    # Zipping reads up to ~180 MB: only on a click, and in the heavy group like the export that writes the files.
    c["zip_btn"].click(
        download,
        [owner, c["run"], c["variant"]],
        c["download"],
        concurrency_limit=1,
        concurrency_id=HEAVY,
        **UI_EVENT,
    )
    c["refresh_all"] = refresh  # build_app refreshes this tab with every other run list
    c["needs_run"] = [c["export_btn"]]  # disabled while this browser sees no run (build_app)
    c["export_btn"].click(
        export,
        [owner, c["run"], c["optimize"], c["quantize"], c["variant"]],
        shown,
        concurrency_limit=1,
        concurrency_id=HEAVY,
        **UI_EVENT,
    )
    return c
