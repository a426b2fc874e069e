"""The named API endpoints for gradio_client: plain JSON in and out, independent of the UI layout.

    from gradio_client import Client, handle_file
    client = Client("http://127.0.0.1:7860/")
    report = client.predict(handle_file("reviews.csv"), "", "", api_name="/inspect")
    job = client.predict(handle_file("reviews.csv"), {"epochs": 1}, api_name="/train")
    client.predict(job["job_id"], api_name="/status")   # poll until state != "running"

A job id is the capability for /status and /stop: whoever holds it may poll or stop that job.
Errors come back as one-line messages (gradio_client raises AppError), and the next call works.
"""

# No `from __future__ import annotations` here: gr.api reads these type hints to document the endpoints.

import uuid
from pathlib import Path
from typing import Any

import gradio as gr

from bertdemo import appapi, appapi_predict
from bertdemo.jobs import JobRunner
from bertdemo.ui.common import HEAVY, ui_errors


def plain(value: Any) -> Any:
    """value without "path" keys: gradio_client takes any dict with a "path" for a file to download,
    and server paths are none of the caller's business anyway."""
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items() if k != "path"}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


def create_api(runner: JobRunner, root: Path | None = None) -> dict[str, Any]:
    """Register /inspect, /train, /status, /stop, /predict, /predict_file, /explain, /models, /delete, /export and
    /compare."""
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
        c["out_file"], c["predict_file_btn"] = gr.File(label="predictions"), gr.Button("predict_file")

    @ui_errors
    def inspect_csv(csv, text_column, label_column):
        """Check a CSV: columns (detected or given), rows used and dropped, class counts, warnings, preview."""
        return plain(appapi.inspect(csv, text_column, label_column))

    c["inspect_btn"].click(
        inspect_csv,
        [c["csv"], c["text_column"], c["label_column"]],
        c["report"],
        api_name="inspect",
        show_progress="hidden",
    )

    @ui_errors
    def train(csv, settings):
        """Start training on a CSV and return at once: {job_id, name, state}. Settings (all optional): name,
        model, text_column, label_column, epochs, learning_rate, batch_size, max_length, val_fraction,
        warmup_ratio, weight_decay, early_stopping, seed, max_rows. Poll /status with the job id."""
        return plain(appapi.start_training(runner, csv, settings, owner=f"api-{uuid.uuid4().hex}"))

    c["train_btn"].click(train, [c["csv"], c["settings"]], c["report"], api_name="train", show_progress="hidden")

    @ui_errors
    def status(job_id: str) -> dict[str, Any]:
        """Progress of a job: state (running/done/failed/stopped), phase, step, total_steps, epoch, epochs,
        elapsed, eta, history, chosen, device, message, name, result, error."""
        return plain(appapi.job_status(runner, job_id))

    @ui_errors
    def stop(job_id: str) -> dict[str, Any]:
        """Stop a job at its next step (nothing is saved); returns its status."""
        return plain(appapi.stop_training(runner, job_id))

    @ui_errors
    def predict(name: str, text: str, backend: str = "pytorch") -> dict[str, Any]:
        """Classify one text with a saved run: {label, probabilities: {label: p}}."""
        return plain(appapi.predict(name, text, backend, root))

    @ui_errors
    def models() -> list[dict[str, Any]]:
        """Saved runs, newest first: name, base_model, labels, rows, accuracy, f1_macro, created, exports."""
        return plain(appapi.list_models(root))

    @ui_errors
    def delete(name: str) -> dict[str, Any]:
        """Delete a saved run: {deleted: name}."""
        return plain(appapi.delete_model(name, root))

    @ui_errors
    def export(name: str, optimize: bool = False, quantize: bool = False) -> dict[str, Any]:
        """Export a run to ONNX (+ optimized / int8 variants) and check each against PyTorch."""
        return plain(appapi.export(name, optimize, quantize, root))

    @ui_errors
    def compare(name: str, texts: list[str] | str) -> dict[str, Any]:
        """PyTorch vs the exported ONNX variants on some texts (a list, or one per line): answers side by side,
        latency p50/p95, throughput, size, accuracy."""
        return plain(appapi.compare(name, texts, root))

    @ui_errors
    def predict_file(csv, name, backend, text_column, label_column):
        """Label every row of a CSV with a saved run (backend blank: the fastest one whose export check passed):
        (report, CSV of the input columns + predicted_label + prob_<class>). The report has rows, predicted,
        skipped, texts_per_second, preview and, when the file has a label column, metrics."""
        report = appapi_predict.predict_file(csv, name, backend, text_column, label_column, root)
        out = report.pop("out")  # the file comes back as a download, not as a server path
        return plain(report), out

    predict_in = [c["csv"], c["run"], c["backend"], c["text_column"], c["label_column"]]
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
    def explain(name: str, text: str, target: str = "") -> dict[str, Any]:
        """Which words pushed the prediction towards a class (target blank: the predicted one): label,
        probabilities, tokens and words as [text, score] pairs (integrated gradients), delta."""
        return plain(appapi_predict.explain(name, text, target, root))

    for fn in (status, stop, predict, models, delete, explain):
        gr.api(fn, api_name=fn.__name__, concurrency_limit=None if fn in (status, stop, models) else "default")
    for fn in (export, compare):
        gr.api(fn, api_name=fn.__name__, concurrency_limit=1, concurrency_id=HEAVY)
    return c
