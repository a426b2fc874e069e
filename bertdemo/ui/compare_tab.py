"""Compare tab: the same texts through PyTorch and each ONNX variant: answers, latency, throughput, size."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import gradio as gr

from bertdemo import appapi, charts
from bertdemo.ui import bench_views
from bertdemo.ui.common import HEAVY, UI_EVENT, run_choices, run_dropdown_update, ui_errors
from bertdemo.ui.explain_view import create_explain_box

EXAMPLE_REVIEWS = [
    [
        "Absolutely love it, works exactly as described and arrived early.\n"
        "Broke after two days and support never answered.\n"
        "It's fine. Does the job, nothing special."
    ],
    ["The battery lasts all week, best purchase this year."],
    ["Not sure how I feel: the screen is great but the speakers are awful."],
]


def create_compare_tab(root: Path | None = None) -> dict[str, Any]:
    """Build and wire the Compare tab; returns its components."""
    c: dict[str, Any] = {}
    with gr.Tab("Compare", id="compare") as c["tab"]:
        gr.Markdown(
            "Run the same reviews through PyTorch and every exported ONNX variant of a run (export it on "
            "the **Export** tab first). Rows where the back-ends disagree are highlighted."
        )
        with gr.Row(equal_height=False):
            with gr.Column(scale=3):
                c["texts"] = gr.Textbox(label="Reviews, one per line", lines=5, placeholder="One review per line")
                gr.Examples(EXAMPLE_REVIEWS, inputs=c["texts"], label="Example reviews")
            with gr.Column(scale=2):
                c["run"] = gr.Dropdown(label="Run", choices=run_choices(root))
                c["compare_btn"] = gr.Button("Compare back-ends", variant="primary")
                c["device"] = gr.Markdown()
        c.update(create_explain_box(c["run"], c["texts"], root, per_line=True))  # which words decided, per line
        c["answers"] = gr.Dataframe(
            label="Answers side by side (label and confidence)",
            interactive=False,
            wrap=True,
            visible=False,
            elem_id="bd-answers",
        )
        c["plot"] = gr.Plot(show_label=False, visible=False)
        c["backends"] = gr.Dataframe(
            label="Speed, size and validation accuracy per back-end", interactive=False, visible=False
        )

    @ui_errors
    def compare(name: str | None, texts: str, progress=gr.Progress()):
        progress(0.1, desc="Loading the back-ends and timing them")
        report = appapi.compare(name, texts, root)
        threads = report.get("threads") or {}
        threads_text = ", ".join(f"{k} {v}" for k, v in threads.items()) if isinstance(threads, dict) else threads
        settings = report.get("settings") or {}
        device = (
            f"Measured on **{report.get('device', '?')}** (threads: {threads_text or '?'}); "
            f"{settings.get('repeats', '?')} timed rounds after warm-up. Latency is per text at batch 1, "
            f"throughput at batch {settings.get('batch_size', '?')}."
        )
        if len(report.get("backends") or {}) < 2:
            device += "\n\n**Only PyTorch is available:** export this run on the **Export** tab to compare."
        return (
            gr.Dataframe(bench_views.styled_answers(report), visible=True),
            gr.Plot(charts.latency_figure(report["backends"]), visible=True),
            gr.Dataframe(bench_views.backends_frame(report), visible=True),
            device,
        )

    def refresh(keep: str | None):
        return run_dropdown_update(root, keep)

    c["tab"].select(refresh, c["run"], c["run"], **UI_EVENT)
    c["compare_btn"].click(
        compare,
        [c["run"], c["texts"]],
        [c["answers"], c["plot"], c["backends"], c["device"]],
        concurrency_limit=1,
        concurrency_id=HEAVY,
        **UI_EVENT,
    )
    return c
