"""The web app: build_app() puts the tabs together (each tab lives in its own module).

gradio is imported inside build_app, so bertdemo.ui.views (pure formatting) imports without it.
"""

from __future__ import annotations

import logging
import os
import warnings
from pathlib import Path
from typing import Any

from bertdemo import config, service

log = logging.getLogger(__name__)

INTRO = """# bertdemo
Fine-tune a BERT-family text classifier on your CSV, export it to ONNX, and compare PyTorch with ONNX Runtime.
The tabs below, in order: Train → check the curves in Charts → manage runs in Models → Export → Compare →
label a whole file in Predict."""


def make_runner(root: Path | None = None) -> service.JobRunner:
    """The app's one service.JobRunner: a training subprocess, or a thread holding the GPU on ZeroGPU Spaces."""
    if os.environ.get("SPACES_ZERO_GPU", "").lower() in {"1", "true"}:
        try:
            import spaces  # only on Hugging Face Spaces
        except ImportError:
            log.warning("SPACES_ZERO_GPU is set but the spaces package is missing: training in a subprocess")
        else:
            # ZeroGPU grants the GPU only to decorated calls in this process, so no subprocess there.
            return service.JobRunner(root, mode="thread", gpu_wrapper=spaces.GPU(duration=config.SPACES_GPU_DURATION))
    return service.JobRunner(root)


def launch_options() -> dict[str, Any]:
    """launch() arguments every caller (app.py, tests) shares."""
    from starlette.middleware import Middleware

    from bertdemo.ui.download_throttle import DownloadThrottle
    from bertdemo.ui.page_style import PAGE_CSS, PAGE_HEAD

    return {
        "max_file_size": f"{config.MAX_UPLOAD_MB}mb",
        "show_error": False,
        "css": PAGE_CSS,
        "head": PAGE_HEAD,
        "app_kwargs": {"middleware": [Middleware(DownloadThrottle)]},  # each client's downloads share a rate
    }


def server_address() -> tuple[str, int]:
    """GRADIO_SERVER_NAME/PORT win; else 0.0.0.0 on HF Spaces (SPACE_ID is set there), 127.0.0.1 locally.

    PORT is what Deta Space (Spacefile) and most PaaS hand a web process.
    """
    default_host = "0.0.0.0" if os.environ.get("SPACE_ID") else config.SERVER_NAME_LOCAL
    host = os.environ.get("GRADIO_SERVER_NAME") or default_host
    port = int(os.environ.get("GRADIO_SERVER_PORT") or os.environ.get("PORT") or config.SERVER_PORT)
    return host, port


def build_app(root: Path | None = None, runner: service.JobRunner | None = None):
    """The gr.Blocks app over the models folder `root` (default config.MODELS_DIR)."""
    import gradio as gr

    from bertdemo.ui.api import create_api
    from bertdemo.ui.charts_tab import create_charts_tab
    from bertdemo.ui.common import UI_EVENT, run_choices, run_gate_updates, settle_failures
    from bertdemo.ui.compare_tab import create_compare_tab
    from bertdemo.ui.export_tab import create_export_tab
    from bertdemo.ui.models_tab import create_models_tab
    from bertdemo.ui.predict_tab import create_predict_tab
    from bertdemo.ui.train_tab import create_train_tab

    # gradio 6.17 reads starlette's deprecated status.HTTP_422_UNPROCESSABLE_ENTITY on every queued event: one
    # warning per click in the server log (the registry is reset whenever a library catches warnings).
    warnings.filterwarnings("ignore", message="'HTTP_422_UNPROCESSABLE_ENTITY' is deprecated")
    root = Path(root).resolve() if root is not None else None
    service.keep_operator_token_from_visitors()  # before a thread-mode job can reach the Hub
    runner = runner or make_runner(root)
    gr.set_static_paths([config.EXAMPLE_CSV.parent])  # "Use example data" shows the file in the File box
    with gr.Blocks(title=config.APP_TITLE, analytics_enabled=False, delete_cache=config.GRADIO_DELETE_CACHE) as demo:
        # A random id per browser (localStorage): a reload finds its job again, other browsers never see it.
        owner = gr.BrowserState(None, storage_key=config.OWNER_STORAGE_KEY)
        gr.Markdown(INTRO)
        create_api(runner, root)  # first, so the endpoints own their names (/train, /predict...)
        with gr.Tabs() as tabs:
            train = create_train_tab(demo, runner, owner, root)
            charts = create_charts_tab(owner, root)
            models = create_models_tab(owner, root)
            export = create_export_tab(owner, root)
            compare = create_compare_tab(owner, root)
            predict = create_predict_tab(owner, root)
        lists = ((train, "try_run"), (charts, "runs"), (export, "run"), (compare, "run"), (predict, "run"))
        every_list = _every_run_list(owner, models, *lists)
        train["load"].then(**every_list, show_progress="hidden", **UI_EVENT)  # once the owner id is known
        models["runs_changed"].change(**every_list, show_progress="hidden", **UI_EVENT)  # a run was deleted
        # Tabs that need a run say "No run yet" (with a way to the Train tab) and disable their buttons.
        gated = (models, export, compare, predict)

        def gate(owner_id: str | None):
            has_runs = bool(run_choices(root, owner_id))
            return [u for tab in gated for u in run_gate_updates(has_runs, len(tab["needs_run"]))]

        gate_out = [x for tab in gated for x in (tab["no_run"], tab["to_train"], *tab["needs_run"])]
        train["load"].then(gate, owner, gate_out, show_progress="hidden", **UI_EVENT)
        models["runs_changed"].change(gate, owner, gate_out, show_progress="hidden", **UI_EVENT)
        for tab in gated:
            tab["tab"].select(gate, owner, gate_out, show_progress="hidden", **UI_EVENT)
            tab["to_train"].click(lambda: gr.Tabs(selected="train"), None, tabs, **UI_EVENT)
        models["runs_changed"].change(  # a deleted run leaves the Train tab at once (its results, its timer)
            train["forget_deleted"],
            [owner, train["job_id"], train["results_shown"]],
            train["forget_out"],
            show_progress="hidden",
            **UI_EVENT,
        )
        settle_failures(demo)  # last: it follows every event wired above
    # api_open=False on every host (gradio shuts it only when SYSTEM=spaces): a direct POST /gradio_api/run/<name>
    # would skip the queue and its one-at-a-time limit on export and compare.
    demo.queue(default_concurrency_limit=config.QUEUE_CONCURRENCY, max_size=config.QUEUE_MAX_SIZE, api_open=False)
    # gradio has no public option for these (see config.QUEUE_POLL_S)
    demo._queue.sleep_when_free = demo._queue.progress_update_sleep_when_free = config.QUEUE_POLL_S
    demo.runner = runner  # tests and app.py reach the jobs through it
    return demo


def _every_run_list(owner, models: dict[str, Any], *lists: tuple[dict[str, Any], str]) -> dict[str, Any]:
    """fn, inputs and outputs of one event that refreshes every run list of the page.

    Each tab also refreshes its own list when it is opened; this one catches what changed elsewhere
    (a delete on Models, the page load that tells who this browser is).
    """

    def refresh_every_list(owner_id: str | None, models_pick: str | None, *picks):
        updates = list(models["refresh_all"](owner_id, models_pick))
        for (tab, _), keep in zip(lists, picks, strict=True):
            updates.append(tab["refresh_all"](owner_id, keep))
        return updates

    return {
        "fn": refresh_every_list,
        "inputs": [owner, models["run"], *(tab[key] for tab, key in lists)],
        "outputs": [models["table"], models["run"], *(tab[key] for tab, key in lists)],
    }
