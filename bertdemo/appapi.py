"""What the web app does, as plain functions: JSON-able values in and out, no gradio.

The UI tabs and the named API endpoints both call these, so tests (and scripts)
can use them without a browser. Errors are BertDemoError with a one-line message;
the UI edge turns them into gr.Error.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from bertdemo import config, settings, store, tempfiles
from bertdemo.errors import BertDemoError
from bertdemo.jobs import JobRunner
from bertdemo.pipeline import TrainRequest

log = logging.getLogger(__name__)


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _need_file(csv_path: str | Path | None) -> Path:
    if _blank(csv_path):
        raise BertDemoError("No CSV file yet: upload one (columns text,label) or click 'Use example data'.")
    path = Path(str(csv_path))
    if not path.is_file():
        raise BertDemoError(f"The uploaded file {path.name!r} is gone (the server restarted?): upload it again.")
    return path


def inspect(
    csv_path: str | Path | None,
    text_column: str | None = None,
    label_column: str | None = None,
    max_rows: int | None = config.DEFAULT_MAX_ROWS,
) -> dict[str, Any]:
    """The data report of a CSV (columns, classes, dropped rows, warnings, preview, token lengths)."""
    from bertdemo.inspection import inspect_csv
    from bertdemo.tokenizing import bundled_tokenizer

    path = _need_file(csv_path)
    return inspect_csv(
        path,
        None if _blank(text_column) else text_column,
        None if _blank(label_column) else label_column,
        max_rows,
        tokenizer=bundled_tokenizer,  # loaded only once the file is read: a bad file is refused at once
    )


def parse_settings(values: dict[str, Any] | None) -> dict[str, Any]:
    """Read /train settings (numbers may come as strings): blank means default, 0 means auto where that exists."""
    return settings.parse_values(TrainRequest, values)


def setting_keys() -> list[str]:
    """The settings /train accepts, in schema order."""
    return [s.name for s in settings.schema(TrainRequest) if s.spec.api]


def make_request(csv_path: str | Path | None, values: dict[str, Any] | None, root: Path | None = None) -> TrainRequest:
    """A checked TrainRequest: bad settings, data or base model fail here, before any process starts."""
    from bertdemo.pipeline import prepare

    request = TrainRequest(csv_path=str(_need_file(csv_path)), **parse_settings(values))
    request.name = prepare(request, root).name
    return request


def start_training(
    runner: JobRunner, csv_path: str | Path | None, settings: dict[str, Any] | None, owner: str
) -> dict[str, Any]:
    """Start a training job (returns at once): {job_id, name, state}; BusyError while another one runs."""
    request = make_request(csv_path, settings, runner.root)
    job_id = runner.start(request, owner)
    return {"job_id": job_id, "name": request.name, "state": "running"}


def job_status(runner: JobRunner, job_id: str, owner: str | None = None) -> dict[str, Any]:
    """Progress and outcome of a job: phase, step/total_steps, epoch, elapsed, eta, history, state, result..."""
    if _blank(job_id):
        raise BertDemoError("No job id: start a training first (it returns the job id).")
    return runner.status(str(job_id).strip(), owner)


def stop_training(runner: JobRunner, job_id: str, owner: str | None = None, keep_best: bool = False) -> dict[str, Any]:
    """Ask a job to stop at its next step; nothing is saved, or with keep_best the best epoch so far."""
    if _blank(job_id):
        raise BertDemoError("No job id: nothing to stop.")
    return runner.stop(str(job_id).strip(), owner, keep_best=bool(keep_best))


def predict(name: str, text: str, backend: str = "pytorch", root: Path | None = None) -> dict[str, Any]:
    """{label, probabilities: {label: p}} for one text."""
    from bertdemo.predictors import load_predictor

    if _blank(name):
        raise BertDemoError("No model chosen: train one first, or pick a saved run.")
    if _blank(text):
        raise BertDemoError("Type a text to classify.")
    pred = load_predictor(name, backend, root).predict([text])
    probs = {lab: round(float(p), 6) for lab, p in zip(pred.label_names, pred.probabilities[0], strict=True)}
    return {"label": pred.labels[0], "probabilities": probs}


def list_models(root: Path | None = None) -> list[dict[str, Any]]:
    """Summaries of the saved runs, newest first."""
    return store.list_runs(root)


def run_names(root: Path | None = None) -> list[str]:
    """Saved run names, newest first."""
    return [r["name"] for r in store.list_runs(root)]


def delete_model(name: str, root: Path | None = None) -> dict[str, Any]:
    """Delete a saved run (and forget its loaded predictors)."""
    from bertdemo.predictors import clear_cache

    if _blank(name):
        raise BertDemoError("No run chosen: pick the run to delete.")
    store.delete_run(name, root)
    clear_cache(name)
    return {"deleted": store.sanitize_name(name)}


def load_run(name: str, root: Path | None = None) -> dict[str, Any]:
    """A saved run's run.json."""
    if _blank(name):
        raise BertDemoError("No run chosen: pick a saved run.")
    return store.load_run(name, root)


def histories(names: list[str] | None, root: Path | None = None) -> dict[str, list[dict[str, Any]]]:
    """{run name: per-epoch history} for the chosen runs."""
    return {name: store.load_run(name, root).get("history") or [] for name in names or []}


def export(
    name: str, optimize: bool = False, quantize: bool = False, root: Path | None = None, progress=None
) -> dict[str, Any]:
    """Export a run to ONNX (and optionally optimized / int8 variants) and check each against PyTorch."""
    from bertdemo.export import export_run
    from bertdemo.predictors import clear_cache

    if _blank(name):
        raise BertDemoError("No run chosen: pick the run to export.")
    report = export_run(name, optimize=bool(optimize), quantize=bool(quantize), root=root, progress=progress)
    clear_cache(name)  # a re-export replaces files that a cached ONNX session may hold
    return report


def split_texts(texts: str | list[str] | None) -> list[str]:
    """One text per non-empty line (a list is taken as it is)."""
    items = texts.splitlines() if isinstance(texts, str) else list(texts or [])
    return [str(t).strip() for t in items if str(t).strip()]


def compare(
    name: str, texts: str | list[str] | None, root: Path | None = None, repeats: int = config.UI_COMPARE_REPEATS
) -> dict[str, Any]:
    """PyTorch vs every exported ONNX variant: answers side by side, latency, throughput, size, accuracy."""
    from bertdemo.benchmark import compare_backends

    if _blank(name):
        raise BertDemoError("No run chosen: pick a saved run (export it first to compare ONNX back-ends).")
    items = split_texts(texts)
    if not items:
        raise BertDemoError("Type at least one review to compare (one per line).")
    return compare_backends(name, items, root=root, repeats=repeats)


def zip_run(name: str, root: Path | None = None) -> Path:
    """A zip of the whole run folder, for download."""
    if _blank(name):
        raise BertDemoError("No run chosen: pick the run to download.")
    return store.zip_run(name, root=root)


def zip_onnx(name: str, root: Path | None = None) -> Path:
    """A zip of models/<name>/onnx, for download; made once per export and reused (swept with the other zips)."""
    if _blank(name):
        raise BertDemoError("No run chosen: pick an exported run.")
    onnx_dir = store.run_dir(name, root) / config.ONNX_SUBDIR
    files = sorted(onnx_dir.glob("*.onnx"))
    if not files:
        raise BertDemoError(f"Run {name!r} has no ONNX files yet: export it first.")
    # The same files give the same folder name: a second download is not zipped (~180 MB) again.
    stamp = max(f.stat().st_mtime_ns for f in onnx_dir.iterdir())
    out_dir = Path(tempfile.gettempdir()) / f"{config.ZIP_DIR_PREFIX}onnx-{onnx_dir.parent.name}-{stamp}"
    zipped = out_dir / f"{onnx_dir.parent.name}-onnx.zip"
    if zipped.is_file():
        os.utime(out_dir)  # in use: not stale for the sweep
        return zipped
    staging = tempfiles.new_temp_dir(config.ZIP_DIR_PREFIX, config.ZIP_MAX_AGE_S)
    built = Path(
        shutil.make_archive(str(staging / zipped.stem), "zip", root_dir=onnx_dir.parent, base_dir=onnx_dir.name)
    )
    try:
        os.rename(staging, out_dir)  # atomic: a concurrent download sees no half zip
    except OSError:  # another request made it meanwhile
        shutil.rmtree(staging, ignore_errors=True)
        return zipped if zipped.is_file() else built
    return zipped
