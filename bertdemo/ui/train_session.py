"""The Train tab's per-browser session: page (re)load, the busy notice and the Try-it box."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import gradio as gr

from bertdemo import service
from bertdemo.ui import views
from bertdemo.ui.common import UI_EVENT, run_dropdown_update, ui_errors
from bertdemo.ui.train_updates import default_form, form_values, others_job


def wire_session(
    demo: gr.Blocks,
    c: dict[str, Any],
    runner: service.JobRunner,
    owner: gr.BrowserState,
    root: Path | None,
    settings_keys: tuple[str, ...],
) -> None:
    """Wire page load (owner id, re-attach, restore the form), the busy notice and Try it; sets c["load"]."""

    @ui_errors
    def classify(owner_id, name, text):
        return service.predict(name, text, root=root, owner=owner_id)["probabilities"]

    def refresh_runs(owner_id, keep):
        return run_dropdown_update(root, keep, owner=owner_id)

    try_in = [owner, c["try_run"], c["try_text"]]
    c["try_btn"].click(classify, try_in, c["try_label"], **UI_EVENT)
    c["try_text"].submit(classify, try_in, c["try_label"], **UI_EVENT)
    c["try_refresh"].click(refresh_runs, [owner, c["try_run"]], c["try_run"], **UI_EVENT)
    c["refresh_all"] = refresh_runs  # build_app refreshes this tab with every other run list

    def busy_notice(owner_id):
        """The notice about someone else's training, whether to keep checking it, and the Train button: off
        while any job runs (one at a time here; the notice says why, or the progress bar for one's own)."""
        text = views.busy_markdown(others_job(runner, owner_id))
        return text, gr.Timer(active=bool(text)), gr.Button(interactive=runner.active_job() is None)

    busy_out = [c["busy"], c["busy_timer"], c["train_btn"]]
    c["busy_timer"].tick(busy_notice, owner, busy_out, show_progress="hidden", concurrency_limit=None, **UI_EVENT)
    c["tab"].select(
        lambda owner_id, keep: (*busy_notice(owner_id), refresh_runs(owner_id, keep)),
        [owner, c["try_run"]],
        [*busy_out, c["try_run"]],
        **UI_EVENT,
    )

    form = [c["model"], c["run_name"], c["text_column"], c["label_column"], *(c[k] for k in settings_keys)]

    def attach(owner_id, page_owner):
        """Page (re)load: give this browser an owner id, re-attach to its newest job and show its settings."""
        owner_id = owner_id or uuid.uuid4().hex
        page_owner = page_owner or owner_id  # set once: a replayed load cannot make another page's state its own
        job_id = runner.latest_job(owner_id)
        running = bool(job_id) and runner.active_job(owner_id) == job_id
        data = gr.skip()
        if running:  # only a running job's settings come back; after it ended the form starts from auto again
            request = runner.request_of(job_id, owner_id)
            settings = form_values(request, settings_keys, keep_name=True)
            data = views.running_file_markdown(request.csv_path)  # the file box is empty after a reload
        else:
            settings = default_form(settings_keys)
        return (
            owner_id,
            page_owner,
            job_id,
            gr.Timer(active=bool(job_id)),
            run_dropdown_update(root, owner=owner_id),
            *busy_notice(owner_id),
            not running,  # the running job's name stays on the form; any other name is ours to replace
            *settings,
            data,
        )

    attach_out = [
        owner,
        c["page_owner"],
        c["job_id"],
        c["timer"],
        c["try_run"],
        *busy_out,
        c["name_auto"],
        *form,
        c["data_summary"],
    ]
    c["load"] = demo.load(attach, [owner, c["page_owner"]], attach_out, **UI_EVENT)
