"""The named API endpoints for gradio_client: plain JSON in and out, independent of the UI layout.

    from gradio_client import Client, handle_file
    client = Client("http://127.0.0.1:7860/")
    report = client.predict(handle_file("reviews.csv"), "", "", api_name="/inspect")
    job = client.predict(handle_file("reviews.csv"), {"epochs": 1}, api_name="/train")
    client.predict(job["job_id"], api_name="/status")   # poll until state != "running"

A job id is the capability for /status and /stop: whoever holds it may poll or stop that job.
A run trained through /train is private to its caller: /train returns an `owner_token` (or uses the one passed
in the settings), and /models, /predict, /export, /compare and /delete take it as their last argument. Runs
without an owner (saved from the command line, shipped with the app) are shared and read-only.
Errors come back as one-line messages (gradio_client raises AppError), and the next call works.
"""

# No `from __future__ import annotations` here: gr.api reads these type hints to document the endpoints.

import secrets
from pathlib import Path
from typing import Any

import gradio as gr
from gradio.utils import get_upload_folder

from bertdemo import service
from bertdemo.ui.common import HEAVY, ui_errors


def plain(value: Any) -> Any:
    """value without "path" keys: gradio_client takes any dict with a "path" for a file to download,
    and server paths are none of the caller's business anyway."""
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items() if k != "path"}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


def create_api(runner: service.JobRunner, root: Path | None = None) -> dict[str, Any]:
    """Register /inspect, /train, /status, /stop, /predict, /predict_file, /explain, /models, /delete, /export,
    /compare and /audit."""
    c: dict[str, Any] = {}
    # Endpoints that take an uploaded file need a File component: it checks the file came through /upload.
    with gr.Column(visible=False):
        c["csv"] = gr.File(label="csv")
        c["text_column"] = gr.Textbox("", label="text_column")
        c["label_column"] = gr.Textbox("", label="label_column")
        c["settings"] = gr.JSON({}, label="settings")
        c["report"] = gr.JSON(label="report")
        c["inspect_btn"] = gr.Button("inspect")
        c["train_btn"] = gr.Button("train")
        c["run"], c["backend"] = gr.Textbox("", label="name"), gr.Textbox("", label="backend")
        c["owner_token"] = gr.Textbox("", label="owner_token")
        c["out_file"], c["predict_file_btn"] = gr.File(label="predictions"), gr.Button("predict_file")

    @ui_errors
    def inspect_csv(csv, text_column, label_column):
        """Check a CSV: columns (detected or given), rows used and dropped, class counts, warnings, preview."""
        return plain(service.inspect(csv, text_column, label_column))

    c["inspect_btn"].click(
        inspect_csv,
        [c["csv"], c["text_column"], c["label_column"]],
        c["report"],
        api_name="inspect",
        show_progress="hidden",
    )

    @ui_errors
    def train(csv, settings):
        settings = dict(settings or {}) if isinstance(settings, dict) else settings
        token = str(settings.pop("owner_token", "") or "").strip() if isinstance(settings, dict) else ""
        token = token or secrets.token_urlsafe(24)
        # The upload serves this job alone: deleted when it ends. Never a file outside gradio's upload folder (the
        # example CSV is a static path a caller may name).
        drop = bool(csv) and Path(str(csv)).resolve().is_relative_to(Path(get_upload_folder()).resolve())
        started = service.start_training(runner, csv, settings, owner=token, drop_upload=drop)
        return plain({**started, "owner_token": token})

    train.__doc__ = (  # from the settings schema, so a new setting is documented here without an edit
        "Start training on a CSV and return at once: {job_id, name, state, owner_token}. Settings (all optional; "
        f"0 or blank = auto or default): {', '.join(service.setting_keys())}, and owner_token (reuse one to own "
        "several runs). model: the bundled default, a Hugging Face Hub id, or a folder the operator lists "
        "(no other server path). Poll /status with the job id; keep owner_token to use and delete the run."
    )

    c["train_btn"].click(train, [c["csv"], c["settings"]], c["report"], api_name="train", show_progress="hidden")

    @ui_errors
    def status(job_id: str) -> dict[str, Any]:
        """Progress of a job: state (running/done/failed/stopped), phase, step, total_steps, epoch, epochs,
        elapsed, eta, history, chosen, device, message, name, result, error, started and ended (Unix time)."""
        return plain(service.job_status(runner, job_id))

    @ui_errors
    def stop(job_id: str, keep_best: bool = False) -> dict[str, Any]:
        """Stop a job at its next step; nothing is saved, or with keep_best=True the best epoch so far is saved
        as the run (once one epoch has ended). Returns its status."""
        return plain(service.stop_training(runner, job_id, keep_best=keep_best))

    @ui_errors
    def predict(name: str, text: str, backend: str = "pytorch", owner_token: str = "") -> dict[str, Any]:
        """Classify one text with a saved run (yours, with the owner_token /train gave, or a shared one):
        {label, probabilities: {label: p}}."""
        return plain(service.predict(name, text, backend, root, owner=owner_token))

    @ui_errors
    def models(owner_token: str = "") -> list[dict[str, Any]]:
        """The runs you see, newest first: the shared ones and those trained with your owner_token. Each has
        name, base_model, labels, rows, accuracy, f1_macro, created, exports and access (yours/shared)."""
        return plain(service.list_models(root, owner=owner_token))

    @ui_errors
    def delete(name: str, owner_token: str = "") -> dict[str, Any]:
        """Delete a run you trained (pass the owner_token /train gave): {deleted: name}. Shared runs are
        read-only."""
        return plain(service.delete_model(name, root, owner=owner_token))

    @ui_errors
    def export(name: str, optimize: bool = False, quantize: bool = False, owner_token: str = "") -> dict[str, Any]:
        """Export a run of yours to ONNX (+ optimized / int8 variants) and check each against PyTorch. Shared
        runs are read-only here (their ONNX files are everyone's)."""
        return plain(service.export(name, optimize, quantize, root, owner=owner_token))

    @ui_errors
    def compare(name: str, texts: list[str] | str, owner_token: str = "") -> dict[str, Any]:
        """PyTorch vs the exported ONNX variants on some texts (a list, or one per line): answers side by side,
        latency p50/p95, throughput, size, accuracy."""
        return plain(service.compare(name, texts, root, owner=owner_token))

    @ui_errors
    def predict_file(csv, name, backend, text_column, label_column, owner_token=""):
        """Label every row of a CSV with a saved run (yours, with the owner_token /train gave, or a shared one;
        backend blank: the fastest one whose export check passed): (report, CSV of the input columns +
        predicted_label + prob_<class>). The report has rows, predicted, skipped, texts_per_second, preview,
        seen_in_training (rows whose text the run trained on; null when the run keeps no list) and, when the file
        has a label column, metrics (rows not trained on) and metrics_seen (rows trained on)."""
        report = service.predict_file(csv, name, backend, text_column, label_column, root, owner=owner_token or None)
        out = report.pop("out")  # the file comes back as a download, not as a server path
        return plain(report), out

    predict_in = [c["csv"], c["run"], c["backend"], c["text_column"], c["label_column"], c["owner_token"]]
    c["predict_file_btn"].click(
        predict_file,
        predict_in,
        [c["report"], c["out_file"]],
        api_name="predict_file",
        concurrency_limit=1,
        concurrency_id=HEAVY,
        show_progress="hidden",
    )

    @ui_errors
    def explain(name: str, text: str, target: str = "", owner_token: str = "") -> dict[str, Any]:
        """Which words pushed the prediction towards a class (target blank: the predicted one): label,
        probabilities, tokens and words as [text, score] pairs (integrated gradients), delta. A private run
        needs the owner_token /train gave."""
        return plain(service.explain(name, text, target, root, owner=owner_token or None))

    @ui_errors
    def audit(name: str, top: int = 50, owner_token: str = "") -> dict[str, Any]:
        """A run's data audit: `rows` whose label looks wrong, most suspicious first (at most `top`; 0: all), each
        with row (1-based data row of the uploaded file), text, given_label, suggested_label, score, reason; plus
        duplicates, leakage and notes. A private run needs the owner_token /train gave."""
        return plain(service.audit(name, top, root, owner=owner_token or None))

    for fn in (status, stop, predict, models, delete, explain, audit):
        gr.api(fn, api_name=fn.__name__, concurrency_limit=None if fn in (status, stop, models) else "default")
    for fn in (export, compare):
        gr.api(fn, api_name=fn.__name__, concurrency_limit=1, concurrency_id=HEAVY)
    return c
