"""Train tab: 1. data (upload or example, columns, preview, balance), 2. settings, Train / Stop with live
progress and curves, the results of the finished run, and 3. a Try-it box."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import gradio as gr

from bertdemo import config, service
from bertdemo.errors import RunNotFound
from bertdemo.ui import charts, views
from bertdemo.ui.audit_view import create_audit_section, wire_audit_section
from bertdemo.ui.common import RUN_PICK, UI_EVENT, page_owned, run_choices, run_dropdown_update, ui_errors
from bertdemo.ui.explain_view import create_explain_box
from bertdemo.ui.html_tables import READ_ONLY_TABLE
from bertdemo.ui.settings_widgets import setting_widgets, widget_settings
from bertdemo.ui.train_session import wire_session
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
# Every setting widget, in the order the train event receives their values.
_SETTINGS = tuple(s.name for group in ("main", "advanced") for s in widget_settings(group))
# --- the tab ----------------------------------------------------------------------------------------------------


def create_train_tab(
    demo: gr.Blocks, runner: service.JobRunner, owner: gr.BrowserState, root: Path | None = None
) -> dict[str, Any]:
    """Build and wire the Train tab; returns its components."""
    c: dict[str, Any] = {}
    with gr.Tab("Train", id="train") as c["tab"]:
        # Inside the Tab: anything else placed directly in gr.Tabs breaks its tab bar (Gradio 6.17).
        c["csv_path"] = gr.State(None)  # the file on the form, kept even when refused (Train then says why)
        c["page_owner"] = gr.State(None)  # the browser this page's state belongs to (set at load: ui.common.page_owned)
        c["report_shown"] = gr.State(False)  # the data report's chart and preview are on screen
        c["job_id"] = gr.State(None)
        # Points last drawn (epochs + loss points): the chart is redrawn only when a new one arrived.
        c["epochs_shown"] = gr.State(-1)
        c["results_shown"] = gr.State(False)  # a finished run's results are on screen
        c["name_auto"] = gr.State(True)  # the run name is ours to replace until the user types one
        c["timer"] = gr.Timer(config.STATUS_POLL_S, active=False)
        c["busy_timer"] = gr.Timer(config.BUSY_POLL_S, active=False)  # while someone else's training runs
        # Shown on arrival while another user trains: before the form is filled in, not only after Train.
        c["busy"] = gr.Markdown(visible=True, elem_id="bd-busy")
        gr.Markdown("### 1. Data\nA CSV file with a column of texts and a column of labels.")
        with gr.Row(equal_height=False):
            with gr.Column(scale=2, min_width=280):
                c["csv_file"] = gr.File(label="Training data (CSV)", height=120, elem_id="bd-csv")
                c["example_btn"] = gr.Button("Use example data (300 product reviews)")
                with gr.Row():
                    c["text_column"] = gr.Dropdown(label="Text column", choices=[], interactive=True)
                    c["label_column"] = gr.Dropdown(label="Label column", choices=[], interactive=True)
            with gr.Column(scale=3, min_width=320):
                c["data_summary"] = gr.Markdown(NO_DATA, elem_id="bd-data")
                c["balance"] = gr.Plot(label="Class balance", visible=False, show_label=False)
        c["preview"] = gr.Dataframe(
            label="Preview (first rows as read)",
            visible=False,
            interactive=False,
            wrap=True,
            max_height=320,
            elem_id="bd-preview",
        )

        gr.Markdown("### 2. Settings")
        with gr.Row():
            c["model"] = gr.Dropdown(
                label="Base model",
                choices=service.base_model_choices(root),
                value=config.DEFAULT_MODEL,
                allow_custom_value=True,
                scale=3,
                min_width=300,  # the model id whole; on a phone the run name goes below
                info="The bundled default works offline; or type a Hugging Face Hub id (or pick a folder listed here).",
            )
            c["run_name"] = gr.Textbox(
                label="Run name",
                scale=2,
                min_width=240,
                info="Saved as models/<run name>.",
                placeholder="blank: <model>-<date>-<time>",
            )
        with gr.Row():
            c.update(setting_widgets("main"))
        with gr.Accordion("Advanced settings", open=False):
            with gr.Row():
                c.update(setting_widgets("advanced"))
        with gr.Row():
            c["train_btn"] = gr.Button("Train", variant="primary", scale=3)
            c["stop_btn"] = gr.Button("Stop and discard", variant="stop", interactive=False, scale=1)
            c["keep_btn"] = gr.Button(
                "Stop, keep best epoch", interactive=False, scale=1, elem_id="bd-stop-keep"
            )  # enabled once an epoch has been evaluated
        c["progress"] = gr.HTML(
            views.progress_html(None), css_template=PROGRESS_CSS, js_on_load=None, elem_id="bd-progress"
        )
        c["device"] = gr.Markdown(elem_id="bd-device")  # device, settings chosen for the data, baseline
        c["curves"] = gr.Plot(label="Training curves", visible=False, show_label=False, elem_id="bd-curves")
        c["results_md"] = gr.Markdown(visible=False, elem_id="bd-results")
        with gr.Row(equal_height=False):
            # Read-only HTML tables (ui/html_tables.py): Gradio's grid redrew them slowly when the results arrived.
            # min_width: on a phone the two go one under the other (side by side, the table was 60 px wide).
            c["per_class"] = gr.HTML(scale=2, min_width=300, visible=False, **READ_ONLY_TABLE)
            c["confusion"] = gr.Plot(label="Confusion matrix", show_label=False, scale=3, min_width=300, visible=False)
        c["mistakes"] = gr.HTML(visible=False, elem_id="bd-mistakes", **READ_ONLY_TABLE)
        c.update(create_audit_section())  # rows whose label looks wrong, duplicates, leakage (ui/audit_view.py)

        gr.Markdown("### 3. Try it")
        with gr.Row(equal_height=False):
            with gr.Column(scale=3):
                c["try_run"] = gr.Dropdown(label="Saved run", choices=run_choices(root), **RUN_PICK)
                c["try_text"] = gr.Textbox(label="Text", lines=3, placeholder="Type a review, then press Classify")
                with gr.Row():
                    c["try_btn"] = gr.Button("Classify", variant="primary", scale=3)
                    c["try_refresh"] = gr.Button("Refresh run list", scale=1)
            c["try_label"] = gr.Label(label="Prediction", num_top_classes=5, scale=2, elem_id="bd-prediction")
        c.update(create_explain_box(c["try_run"], c["try_text"], owner, root))  # which words decided

    _wire(demo, c, runner, owner, root)
    return c


def _wire(
    demo: gr.Blocks, c: dict[str, Any], runner: service.JobRunner, owner: gr.BrowserState, root: Path | None
) -> None:
    results = [c["results_md"], c["per_class"], c["confusion"], c["mistakes"]]
    _wire_data(c, results, owner)
    _wire_training(c, runner, owner, results)
    _wire_progress(c, runner, owner, root, results)
    _wire_stops(c, runner, owner)
    wire_session(demo, c, runner, owner, root, _SETTINGS)
    wire_audit_section(c, c["results_shown"], c["job_id"], runner, owner, root)


def _new_name(model: str | None, auto: bool):
    """A fresh default run name for the chosen base model, unless the user typed one."""
    return service.default_run_name(model or config.DEFAULT_MODEL) if auto else gr.skip()


def _wire_data(c: dict[str, Any], results: list, owner: gr.BrowserState) -> None:
    """Step 1: a file or the example, its columns, the data report; a new file hides the last run's results."""
    data_out = [
        c["csv_path"],
        c["text_column"],
        c["label_column"],
        c["data_summary"],
        c["balance"],
        c["preview"],
        c["report_shown"],
    ]

    def new_data_hides_old_results(shown: bool):
        """A new file: the last run's results leave, so they are never read as this file's."""
        return *hidden_results(shown), False

    old_results = {
        "fn": new_data_hides_old_results,
        "inputs": c["results_shown"],
        "outputs": [*results, c["results_shown"]],
    }
    c["csv_file"].upload(load_csv, [c["csv_file"], c["report_shown"]], data_out, **UI_EVENT).then(
        **old_results, **UI_EVENT
    )
    c["csv_file"].clear(lambda shown: load_csv(None, shown), c["report_shown"], data_out, **UI_EVENT)

    def use_example(shown):
        return (str(config.EXAMPLE_CSV), *load_csv(str(config.EXAMPLE_CSV), shown))

    c["example_btn"].click(use_example, c["report_shown"], [c["csv_file"], *data_out], **UI_EVENT).then(
        **old_results, **UI_EVENT
    )
    columns = [c["csv_path"], c["text_column"], c["label_column"], c["report_shown"], owner, c["page_owner"]]
    c["text_column"].input(page_owned(reinspect), columns, data_out, **UI_EVENT)
    c["label_column"].input(page_owned(reinspect), columns, data_out, **UI_EVENT)

    c["model"].change(_new_name, [c["model"], c["name_auto"]], c["run_name"], **UI_EVENT)
    c["run_name"].input(lambda: False, None, c["name_auto"], **UI_EVENT)


def _wire_training(c: dict[str, Any], runner: service.JobRunner, owner: gr.BrowserState, results: list) -> None:
    """Step 2: Train starts a job and the timer that follows it."""

    @ui_errors
    def train(owner_id, csv_path, text_column, label_column, model, name, results_shown, *values):
        settings = dict(zip(_SETTINGS, values, strict=True))
        settings.update(text_column=text_column, label_column=label_column, model=model, name=name)
        started = service.start_training(runner, csv_path, settings, owner_id)
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
            gr.Button(interactive=False),
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
        owner,
        c["page_owner"],
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
        c["keep_btn"],
        *results,
    ]
    # No spinner over the outputs: the progress bar below says what happens.
    c["train_btn"].click(page_owned(train), train_in, train_out, show_progress="hidden", **UI_EVENT)


def _wire_progress(
    c: dict[str, Any], runner: service.JobRunner, owner: gr.BrowserState, root: Path | None, results: list
) -> None:
    """While a job runs: progress, curves and, at the end, the results; a deleted run is let go at once."""

    def let_go(results_shown: bool) -> dict:
        """The job's run is gone (deleted, or the server restarted): forget it, and its results leave the page."""
        return {
            c["progress"]: views.progress_html(None),
            c["device"]: "",  # the device, "Chosen for you" and the baseline were that run's
            c["curves"]: gr.Plot(visible=False),
            c["job_id"]: None,
            c["timer"]: gr.Timer(active=False),
            c["train_btn"]: gr.Button(interactive=True),
            c["stop_btn"]: gr.Button(interactive=False),
            c["keep_btn"]: gr.Button(interactive=False),
            c["results_shown"]: False,
            **dict(zip(results, hidden_results(results_shown), strict=True)),
        }

    def tick(owner_id, job_id, shown, auto, try_run, model, run_name, results_shown):
        """Every STATUS_POLL_S while a job runs: progress, curves when an epoch ended, results at the end.

        Returns {component: update}; components left out keep their value.
        """
        if not job_id:
            return {c["timer"]: gr.Timer(active=False)}
        try:
            status = runner.status(job_id, owner_id)
            # A finished job is shown from its saved run: the Done line and the results read the same run.json.
            info = service.load_run(status.get("name"), root, owner_id) if status["state"] == "done" else None
        except RunNotFound:  # the server restarted (the job is gone), or its run was deleted since
            return let_go(results_shown)
        history = status.get("history") or []
        trace = status.get("loss_trace") or []
        running = status["state"] == "running"
        out = {
            c["progress"]: views.progress_html(status, info),
            c["device"]: views.device_markdown(status),
            c["epochs_shown"]: len(history) + len(trace),
            c["train_btn"]: gr.Button(interactive=not running),
            c["stop_btn"]: gr.Button(interactive=running),
            c["keep_btn"]: gr.Button(interactive=running and bool(history)),
        }
        if len(history) + len(trace) != shown:
            # The loss every few steps while it runs; the finished run's chart shows the epochs only.
            live = trace if running else None
            out[c["curves"]] = gr.Plot(charts.training_curves(history, loss_trace=live), visible=True)
            quick = (status.get("quick") or {}).get("run")
            if running and quick and try_run != quick:  # the quick model joins "Try it" (chosen if nothing is)
                out[c["try_run"]] = run_dropdown_update(
                    root, keep=try_run, prefer=None if try_run else quick, owner=owner_id
                )
        if running:
            return out
        out[c["timer"]] = gr.Timer(active=False)
        if status["state"] == "done":
            name = status.get("name")
            out[c["try_run"]] = run_dropdown_update(root, keep=try_run, prefer=name, owner=owner_id)
            # A fresh name for the next run, unless the user typed one (the finished run's own name never stays).
            out[c["run_name"]] = _new_name(model, auto or run_name == name)
            out[c["name_auto"]] = auto or run_name == name
            out.update(zip(results, result_views(info), strict=True))
            out[c["results_shown"]] = True
        return out

    tick_in = [
        owner,
        c["job_id"],
        c["epochs_shown"],
        c["name_auto"],
        c["try_run"],
        c["model"],
        c["run_name"],
        c["results_shown"],
    ]
    tick_out = [
        c["job_id"],
        c["progress"],
        c["device"],
        c["curves"],
        c["epochs_shown"],
        c["timer"],
        c["train_btn"],
        c["stop_btn"],
        c["keep_btn"],
        c["try_run"],
        c["run_name"],
        c["name_auto"],
        c["results_shown"],
        *results,
    ]
    c["timer"].tick(tick, tick_in, tick_out, show_progress="hidden", concurrency_limit=None, **UI_EVENT)

    def forget_deleted(owner_id, job_id, results_shown):
        """After a delete on the Models tab: if it was this job's run, let it go here too, at once."""
        if not job_id:
            return {}
        try:
            status = runner.status(job_id, owner_id)
        except RunNotFound:
            return let_go(results_shown)
        if status["state"] != "done":  # a running job has no saved run yet: nothing of it was deleted
            return {}
        return {} if status.get("name") in service.run_names(root, owner_id) else let_go(results_shown)

    c["forget_deleted"] = forget_deleted  # build_app calls it when a run was deleted
    # Only what let_go changes: the run dropdown is refreshed by build_app's own event (two writers raced there).
    c["forget_out"] = [c[k] for k in ("progress", "device", "curves", "job_id", "timer", "train_btn", "stop_btn")]
    c["forget_out"] += [c["keep_btn"]]
    c["forget_out"] += [c["results_shown"], *results]


def _wire_stops(c: dict[str, Any], runner: service.JobRunner, owner: gr.BrowserState) -> None:
    """Stop and discard, or stop and keep the best epoch so far."""

    @ui_errors
    def stop(owner_id, job_id):
        status = service.stop_training(runner, job_id, owner_id)
        status["message"] = "Stopping at the next step; nothing will be saved."
        gr.Info("Stopping: the current step finishes first, then nothing is saved.")
        return views.progress_html(status), gr.Button(interactive=False), gr.Button(interactive=False)

    c["stop_btn"].click(stop, [owner, c["job_id"]], [c["progress"], c["stop_btn"], c["keep_btn"]], **UI_EVENT)

    @ui_errors
    def stop_keep(owner_id, job_id):
        status = service.stop_training(runner, job_id, owner_id, keep_best=True)
        status["message"] = "Stopping at the next step; the best epoch so far will be saved as the run."
        gr.Info("Stopping: the best epoch so far is kept and saved.")
        return views.progress_html(status), gr.Button(interactive=False), gr.Button(interactive=False)

    c["keep_btn"].click(stop_keep, [owner, c["job_id"]], [c["progress"], c["stop_btn"], c["keep_btn"]], **UI_EVENT)
