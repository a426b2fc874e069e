"""Compare tab: the same texts through PyTorch and each ONNX variant: answers, latency, throughput, size."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import gradio as gr

from bertdemo import config, service
from bertdemo.errors import BertDemoError
from bertdemo.ui import bench_views, charts
from bertdemo.ui.common import HEAVY, RUN_PICK, UI_EVENT, no_run_notice, run_choices, run_dropdown_update, ui_errors
from bertdemo.ui.compare_clock import CompareClock
from bertdemo.ui.explain_view import create_explain_box
from bertdemo.ui.html_tables import READ_ONLY_TABLE

EXAMPLE_REVIEWS = [
    [
        "Absolutely love it, works exactly as described and arrived early.\n"
        "Broke after two days and support never answered.\n"
        "It's fine. Does the job, nothing special."
    ],
    ["The battery lasts all week, best purchase this year."],
    ["Not sure how I feel: the screen is great but the speakers are awful."],
]


def create_compare_tab(owner: gr.BrowserState, root: Path | None = None) -> dict[str, Any]:
    """Build and wire the Compare tab; returns its components."""
    c: dict[str, Any] = {}
    clock = CompareClock()  # what comparisons took on this server: the next estimate
    with gr.Tab("Compare", id="compare") as c["tab"]:
        gr.Markdown(
            "Run the same reviews through PyTorch and every exported ONNX variant of a run (export it on "
            "the **Export** tab first). Rows where the back-ends disagree are highlighted."
        )
        no_run_notice(c, bool(run_choices(root)))
        with gr.Row(equal_height=False):
            with gr.Column(scale=3):
                c["texts"] = gr.Textbox(label="Reviews, one per line", lines=5, placeholder="One review per line")
                gr.Examples(EXAMPLE_REVIEWS, inputs=c["texts"], label="Example reviews")
            with gr.Column(scale=2):
                c["run"] = gr.Dropdown(label="Run", choices=run_choices(root), **RUN_PICK)
                c["compare_btn"] = gr.Button("Compare back-ends", variant="primary")
                c["device"] = gr.Markdown(elem_id="bd-compare-status", min_height=40)
        c.update(create_explain_box(c["run"], c["texts"], owner, root, per_line=True))  # which words decided, per line
        # Read-only HTML: the labels and "agree" first, each text cut (whole on a click) and last.
        c["answers"] = gr.HTML(
            visible=False,
            elem_id="bd-answers",
            **READ_ONLY_TABLE,
        )
        c["plot"] = gr.Plot(show_label=False, visible=False)
        c["backends"] = gr.Dataframe(
            label="Speed, size and validation accuracy per back-end",
            interactive=False,
            visible=False,
            elem_id="bd-backends",
        )

    @ui_errors
    def compare(owner_id: str | None, name: str | None, texts: str):
        started = time.perf_counter()
        report = service.compare(name, texts, root, owner=owner_id)
        clock.learn(time.perf_counter() - started, len(report["texts"]), len(report["backends"]))
        device = bench_views.measurement_text(report)
        return (
            gr.HTML(bench_views.answers_html(report), visible=True),
            gr.Plot(charts.latency_figure(report["backends"]), visible=True),
            gr.Dataframe(bench_views.backends_frame(report), visible=True),
            device,
        )

    def refresh(owner_id: str | None, keep: str | None):
        return run_dropdown_update(root, keep, owner=owner_id)

    def busy(owner_id: str | None, name: str | None, texts: str | None):
        """At once, before the queue: the button cannot be pressed twice, and one line says what happens and
        for how long (estimated from the texts, the run's back-ends and this machine)."""
        try:
            backends = len(service.backends(name, root, owner=owner_id)["choices"]) if name else 1
        except BertDemoError:  # the compare event says what is wrong
            backends = 1
        n = min(len(service.split_texts(texts)), config.BENCH_MAX_TEXTS)
        return gr.Button("Comparing…", interactive=False), clock.note(n, backends)

    def done(note: str | None):
        """Success or error: the button comes back; a busy note left by an error goes."""
        busy_left = bool(note) and note.startswith("**Comparing…**")
        return gr.Button("Compare back-ends", interactive=True), "" if busy_left else gr.skip()

    c["tab"].select(refresh, [owner, c["run"]], c["run"], **UI_EVENT)
    c["refresh_all"] = refresh  # build_app refreshes this tab with every other run list
    c["needs_run"] = [c["compare_btn"], c["explain_btn"]]  # disabled while this browser sees no run (build_app)
    busy_in = [owner, c["run"], c["texts"]]
    # show_progress hidden throughout: one status, the note (Gradio's own timer and spinner drew over it).
    c["compare_btn"].click(
        busy, busy_in, [c["compare_btn"], c["device"]], queue=False, show_progress="hidden", **UI_EVENT
    ).then(
        compare,
        [owner, c["run"], c["texts"]],
        [c["answers"], c["plot"], c["backends"], c["device"]],
        concurrency_limit=1,
        concurrency_id=HEAVY,
        show_progress="hidden",
        **UI_EVENT,
    ).then(done, c["device"], [c["compare_btn"], c["device"]], show_progress="hidden", **UI_EVENT)
    return c
