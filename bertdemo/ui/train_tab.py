"""Train tab: 1. data (upload or example, columns, preview, balance), 2. settings, Train / Stop with live
progress and curves, the results of the finished run, and 3. a Try-it box."""

from __future__ import annotations

import time
import uuid
from pathlib import Path
from typing import Any

import gradio as gr

from bertdemo import appapi, charts, config, store
from bertdemo.errors import RunNotFound
from bertdemo.jobs import JobRunner
from bertdemo.ui import views
from bertdemo.ui.common import UI_EVENT, run_choices, run_dropdown_update, ui_errors
from bertdemo.ui.explain_view import create_explain_box
from bertdemo.ui.train_updates import NO_DATA, hidden_results, load_csv, reinspect, result_views

PROGRESS_CSS = """
.bd-progress { padding: 10px 14px; border: 1px solid var(--border-color-primary); border-radius: 8px;
               background: var(--block-background-fill); }
.bd-text { margin-bottom: 6px; }
.bd-track { height: 12px; border-radius: 6px; background: var(--neutral-200); overflow: hidden; }
.bd-fill { height: 100%; background: var(--color-accent); transition: width 0.6s ease; }
.bd-done .bd-fill { background: #22a06b; }
.bd-failed .bd-fill, .bd-stopped .bd-fill { background: #c9372c; }
.bd-idle { color: var(--body-text-color-subdued); }
.bd-idle .bd-track { display: none; }
.bd-note { margin-top: 6px; }
.bd-failed .bd-note, .bd-stopped .bd-note { color: #c9372c; }
"""
_SETTINGS = (
    "epochs",
    "learning_rate",
    "batch_size",
    "max_length",
    "val_fraction",
    "warmup_ratio",
    "weight_decay",
    "early_stopping",
    "seed",
    "max_rows",
)
# --- the tab ----------------------------------------------------------------------------------------------------


def create_train_tab(
    demo: gr.Blocks, runner: JobRunner, owner: gr.BrowserState, root: Path | None = None
) -> dict[str, Any]:
    """Build and wire the Train tab; returns its components."""
    c: dict[str, Any] = {}
    with gr.Tab("Train", id="train") as c["tab"]:
        # Inside the Tab: anything else placed directly in gr.Tabs breaks its tab bar (Gradio 6.17).
        c["csv_path"] = gr.State(None)
        c["job_id"] = gr.State(None)
        c["epochs_shown"] = gr.State(-1)  # history length last drawn: the chart is redrawn only when it grows
        c["results_shown"] = gr.State(False)  # a finished run's results are on screen
        c["name_auto"] = gr.State(True)  # the run name is ours to replace until the user types one
        c["timer"] = gr.Timer(config.STATUS_POLL_S, active=False)
        gr.Markdown("### 1. Data\nA CSV file with a column of texts and a column of labels.")
        with gr.Row(equal_height=False):
            with gr.Column(scale=2, min_width=280):
                c["csv_file"] = gr.File(label="Training data (CSV)", height=120, elem_id="bd-csv")
                c["example_btn"] = gr.Button("Use example data (300 product reviews)")
                with gr.Row():
                    c["text_column"] = gr.Dropdown(label="Text column", choices=[], interactive=True)
                    c["label_column"] = gr.Dropdown(label="Label column", choices=[], interactive=True)
            with gr.Column(scale=3, min_width=320):
                c["data_summary"] = gr.Markdown(NO_DATA)
                c["balance"] = gr.Plot(label="Class balance", visible=False, show_label=False)
        c["preview"] = gr.Dataframe(
            label="Preview (first rows as read)", visible=False, interactive=False, wrap=True, max_height=320
        )

        gr.Markdown("### 2. Settings")
        with gr.Row():
            c["model"] = gr.Dropdown(
                label="Base model",
                choices=[config.DEFAULT_MODEL],
                value=config.DEFAULT_MODEL,
                allow_custom_value=True,
                scale=3,
                info="The bundled default works offline; or type a Hub id or a local folder.",
            )
            c["run_name"] = gr.Textbox(
                label="Run name",
                scale=2,
                info="Saved as models/<run name>.",
                placeholder="blank: <model>-<date>-<time>",
            )
        with gr.Row():
            c["epochs"] = gr.Number(label="Epochs", value=config.DEFAULT_EPOCHS, precision=0, minimum=1, maximum=100)
            c["learning_rate"] = gr.Number(label="Learning rate (0 = auto)", value=0, minimum=0, step=1e-5)
            c["batch_size"] = gr.Number(label="Batch size (0 = auto)", value=0, precision=0, minimum=0)
            c["max_length"] = gr.Number(
                label="Max length (tokens)", value=config.DEFAULT_MAX_LENGTH, precision=0, minimum=8, maximum=512
            )
            c["val_fraction"] = gr.Number(
                label="Validation fraction", value=config.DEFAULT_VAL_FRACTION, minimum=0.05, maximum=0.5, step=0.05
            )
        with gr.Accordion("Advanced settings", open=False):
            with gr.Row():
                c["warmup_ratio"] = gr.Number(
                    label="Warmup ratio", value=config.DEFAULT_WARMUP_RATIO, minimum=0, maximum=0.9, step=0.05
                )
                c["weight_decay"] = gr.Number(
                    label="Weight decay", value=config.DEFAULT_WEIGHT_DECAY, minimum=0, maximum=1, step=0.01
                )
                c["early_stopping"] = gr.Number(
                    label="Early stopping patience (0 = off)", value=0, precision=0, minimum=0
                )
                c["seed"] = gr.Number(label="Seed", value=config.DEFAULT_SEED, precision=0)
                c["max_rows"] = gr.Number(
                    label="Max rows (random sample)", value=config.DEFAULT_MAX_ROWS, precision=0, minimum=1
                )
        with gr.Row():
            c["train_btn"] = gr.Button("Train", variant="primary", scale=3)
            c["stop_btn"] = gr.Button("Stop", variant="stop", interactive=False, scale=1)
        c["progress"] = gr.HTML(
            views.progress_html(None), css_template=PROGRESS_CSS, js_on_load=None, elem_id="bd-progress"
        )
        c["device"] = gr.Markdown()
        c["curves"] = gr.Plot(label="Training curves", visible=False, show_label=False, elem_id="bd-curves")
        c["results_md"] = gr.Markdown(visible=False, elem_id="bd-results")
        with gr.Row(equal_height=False):
            c["per_class"] = gr.Dataframe(label="Per class (validation)", interactive=False, scale=2, visible=False)
            c["confusion"] = gr.Plot(label="Confusion matrix", show_label=False, scale=3, visible=False)
        c["mistakes"] = gr.Dataframe(
            label="Validation rows it got wrong (most confident first)",
            interactive=False,
            wrap=True,
            max_height=320,
            column_widths=["58%", "14%", "14%", "14%"],
            visible=False,
        )

        gr.Markdown("### 3. Try it")
        with gr.Row(equal_height=False):
            with gr.Column(scale=3):
                c["try_run"] = gr.Dropdown(label="Saved run", choices=run_choices(root))
                c["try_text"] = gr.Textbox(label="Text", lines=3, placeholder="Type a review, then press Classify")
                with gr.Row():
                    c["try_btn"] = gr.Button("Classify", variant="primary", scale=3)
                    c["try_refresh"] = gr.Button("Refresh run list", scale=1)
            c["try_label"] = gr.Label(label="Prediction", num_top_classes=5, scale=2, elem_id="bd-prediction")
        c.update(create_explain_box(c["try_run"], c["try_text"], root))  # which words decided

    _wire(demo, c, runner, owner, root)
    return c


def _wire(demo: gr.Blocks, c: dict[str, Any], runner: JobRunner, owner: gr.BrowserState, root: Path | None) -> None:
    data_out = [c["csv_path"], c["text_column"], c["label_column"], c["data_summary"], c["balance"], c["preview"]]
    results = [c["results_md"], c["per_class"], c["confusion"], c["mistakes"]]
    c["csv_file"].upload(load_csv, [c["csv_file"], c["csv_path"]], data_out, **UI_EVENT)
    c["csv_file"].clear(lambda previous: load_csv(None, previous), c["csv_path"], data_out, **UI_EVENT)

    def use_example(previous):
        return (str(config.EXAMPLE_CSV), *load_csv(str(config.EXAMPLE_CSV), previous))

    c["example_btn"].click(use_example, c["csv_path"], [c["csv_file"], *data_out], **UI_EVENT)
    columns = [c["csv_path"], c["text_column"], c["label_column"]]
    c["text_column"].input(reinspect, columns, data_out, **UI_EVENT)
    c["label_column"].input(reinspect, columns, data_out, **UI_EVENT)

    def new_name(model: str | None, auto: bool):
        return store.default_run_name(model or config.DEFAULT_MODEL) if auto else gr.skip()

    c["model"].change(new_name, [c["model"], c["name_auto"]], c["run_name"], **UI_EVENT)
    c["run_name"].input(lambda: False, None, c["name_auto"], **UI_EVENT)

    @ui_errors
    def train(owner_id, csv_path, text_column, label_column, model, name, results_shown, *values):
        settings = dict(zip(_SETTINGS, values, strict=True))
        settings.update(text_column=text_column, label_column=label_column, model=model, name=name)
        started = appapi.start_training(runner, csv_path, settings, owner_id or "anonymous")
        status = {"state": "running", "phase": "starting", "name": started["name"], "started": time.time()}
        return (
            started["job_id"],
            gr.Timer(active=True),
            views.progress_html(status),
            "",
            -1,
            False,
            gr.Button(interactive=False),
            gr.Button(interactive=True),
            *hidden_results(results_shown),
        )

    train_in = [
        owner,
        c["csv_path"],
        c["text_column"],
        c["label_column"],
        c["model"],
        c["run_name"],
        c["results_shown"],
        *(c[k] for k in _SETTINGS),
    ]
    train_out = [
        c["job_id"],
        c["timer"],
        c["progress"],
        c["device"],
        c["epochs_shown"],
        c["results_shown"],
        c["train_btn"],
        c["stop_btn"],
        *results,
    ]
    # No spinner over the outputs: the progress bar below says what happens.
    c["train_btn"].click(train, train_in, train_out, show_progress="hidden", **UI_EVENT)

    def tick(owner_id, job_id, shown, auto, try_run, model):
        """Every STATUS_POLL_S while a job runs: progress, curves when an epoch ended, results at the end.

        Returns {component: update}; components left out keep their value.
        """
        if not job_id:
            return {c["timer"]: gr.Timer(active=False)}
        try:
            status = runner.status(job_id, owner_id)
        except RunNotFound:  # the server restarted: that job is gone
            return {
                c["progress"]: views.progress_html(None),
                c["timer"]: gr.Timer(active=False),
                c["train_btn"]: gr.Button(interactive=True),
                c["stop_btn"]: gr.Button(interactive=False),
            }
        history = status.get("history") or []
        running = status["state"] == "running"
        out = {
            c["progress"]: views.progress_html(status),
            c["device"]: views.device_markdown(status),
            c["epochs_shown"]: len(history),
            c["train_btn"]: gr.Button(interactive=not running),
            c["stop_btn"]: gr.Button(interactive=running),
        }
        if len(history) != shown:
            out[c["curves"]] = gr.Plot(charts.training_curves(history), visible=True)
        if running:
            return out
        out[c["timer"]] = gr.Timer(active=False)
        if status["state"] == "done":
            name = status.get("name")
            out[c["try_run"]] = run_dropdown_update(root, keep=try_run, prefer=name)
            out[c["run_name"]] = new_name(model, auto)
            out.update(zip(results, result_views(name, root), strict=True))
            out[c["results_shown"]] = True
        return out

    tick_in = [owner, c["job_id"], c["epochs_shown"], c["name_auto"], c["try_run"], c["model"]]
    tick_out = [
        c["progress"],
        c["device"],
        c["curves"],
        c["epochs_shown"],
        c["timer"],
        c["train_btn"],
        c["stop_btn"],
        c["try_run"],
        c["run_name"],
        c["results_shown"],
        *results,
    ]
    c["timer"].tick(tick, tick_in, tick_out, show_progress="hidden", concurrency_limit=None, **UI_EVENT)

    @ui_errors
    def stop(owner_id, job_id):
        status = appapi.stop_training(runner, job_id, owner_id)
        status["message"] = "Stopping at the next step; nothing will be saved."
        gr.Info("Stopping: the current step finishes first, then nothing is saved.")
        return views.progress_html(status), gr.Button(interactive=False)

    c["stop_btn"].click(stop, [owner, c["job_id"]], [c["progress"], c["stop_btn"]], **UI_EVENT)

    @ui_errors
    def classify(name, text):
        return appapi.predict(name, text, root=root)["probabilities"]

    c["try_btn"].click(classify, [c["try_run"], c["try_text"]], c["try_label"], **UI_EVENT)
    c["try_text"].submit(classify, [c["try_run"], c["try_text"]], c["try_label"], **UI_EVENT)
    c["try_refresh"].click(lambda keep: run_dropdown_update(root, keep), c["try_run"], c["try_run"], **UI_EVENT)

    def attach(owner_id):
        """Page (re)load: give this browser an owner id and re-attach to its newest job."""
        owner_id = owner_id or uuid.uuid4().hex
        job_id = runner.latest_job(owner_id)
        return (
            owner_id,
            job_id,
            gr.Timer(active=bool(job_id)),
            run_dropdown_update(root),
            store.default_run_name(config.DEFAULT_MODEL),
        )

    demo.load(attach, owner, [owner, c["job_id"], c["timer"], c["try_run"], c["run_name"]], **UI_EVENT)
