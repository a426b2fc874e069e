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

from bertdemo import access, config, settings, store, tempfiles
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


def file_columns(csv_path: str | Path | None) -> list[str]:
    """The column names of a CSV, or [] when it cannot be read as a table at all."""
    from bertdemo.csvread import read_table

    if _blank(csv_path) or not Path(str(csv_path)).is_file():
        return []
    try:
        return list(read_table(csv_path).columns)
    except BertDemoError:
        return []


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


def predict(
    name: str, text: str, backend: str = "pytorch", root: Path | None = None, owner: str | None = None
) -> dict[str, Any]:
    """{label, probabilities: {label: p}} for one text, with a run this owner may use."""
    from bertdemo.predictors import load_predictor

    if _blank(name):
        raise BertDemoError("No model chosen: train one first, or pick a saved run.")
    if _blank(text):
        raise BertDemoError("Type a text to classify.")
    access.check_visible(name, owner, root)
    pred = load_predictor(name, backend, root).predict([text])
    probs = {lab: round(float(p), 6) for lab, p in zip(pred.label_names, pred.probabilities[0], strict=True)}
    return {"label": pred.labels[0], "probabilities": probs}


def list_models(root: Path | None = None, owner: str | None = None) -> list[dict[str, Any]]:
    """Summaries of the runs this owner sees (theirs and the shared ones), newest first; access: yours/shared."""
    return access.visible_runs(store.list_runs(root), owner)


def run_names(root: Path | None = None, owner: str | None = None) -> list[str]:
    """Names of the runs this owner sees, newest first."""
    return access.visible_names(owner, root)


def delete_model(name: str, root: Path | None = None, owner: str | None = None) -> dict[str, Any]:
    """Delete a saved run of this owner (and forget its loaded predictors); shared runs are read-only."""
    from bertdemo.predictors import clear_cache

    if _blank(name):
        raise BertDemoError("No run chosen: pick the run to delete.")
    access.check_deletable(name, owner, root)
    store.delete_run(name, root)
    clear_cache(name)
    return {"deleted": store.sanitize_name(name)}


def load_run(name: str, root: Path | None = None, owner: str | None = None) -> dict[str, Any]:
    """A saved run's run.json."""
    if _blank(name):
        raise BertDemoError("No run chosen: pick a saved run.")
    access.check_visible(name, owner, root)
    return store.load_run(name, root)


def histories(
    names: list[str] | None, root: Path | None = None, owner: str | None = None
) -> dict[str, list[dict[str, Any]]]:
    """{run name: per-epoch history} for the chosen runs."""
    return {name: load_run(name, root, owner).get("history") or [] for name in names or []}


def export(
    name: str,
    optimize: bool = False,
    quantize: bool = False,
    root: Path | None = None,
    progress=None,
    owner: str | None = None,
) -> dict[str, Any]:
    """Export a run to ONNX (and optionally optimized / int8 variants) and check each against PyTorch."""
    from bertdemo.export import export_run
    from bertdemo.predictors import clear_cache

    if _blank(name):
        raise BertDemoError("No run chosen: pick the run to export.")
    access.check_visible(name, owner, root)
    report = export_run(name, optimize=bool(optimize), quantize=bool(quantize), root=root, progress=progress)
    clear_cache(name)  # a re-export replaces files that a cached ONNX session may hold
    return report


def split_texts(texts: str | list[str] | None) -> list[str]:
    """One text per non-empty line (a list is taken as it is)."""
    items = texts.splitlines() if isinstance(texts, str) else list(texts or [])
    return [str(t).strip() for t in items if str(t).strip()]


def compare(
    name: str,
    texts: str | list[str] | None,
    root: Path | None = None,
    repeats: int = config.UI_COMPARE_REPEATS,
    owner: str | None = None,
) -> dict[str, Any]:
    """PyTorch vs every exported ONNX variant: answers side by side, latency, throughput, size, accuracy."""
    from bertdemo.benchmark import compare_backends

    if _blank(name):
        raise BertDemoError("No run chosen: pick a saved run (export it first to compare ONNX back-ends).")
    items = split_texts(texts)
    if not items:
        raise BertDemoError("Type at least one review to compare (one per line).")
    access.check_visible(name, owner, root)
    return compare_backends(name, items, root=root, repeats=repeats)


def zip_run(name: str, root: Path | None = None, owner: str | None = None) -> Path:
    """A zip of the whole run folder, for download."""
    if _blank(name):
        raise BertDemoError("No run chosen: pick the run to download.")
    access.check_visible(name, owner, root)
    return store.zip_run(name, root=root)


def zip_onnx(name: str, root: Path | None = None, owner: str | None = None, variant: str | None = None) -> Path:
    """A zip of models/<name>/onnx for download: every variant, or one (its .onnx plus config and tokenizer).

    Made once per export and variant, then reused (swept with the other zips): a second download of the
    ~180 MB folder is not zipped again.
    """
    import zipfile

    if _blank(name):
        raise BertDemoError("No run chosen: pick an exported run.")
    onnx_dir = access.check_visible(name, owner, root) / config.ONNX_SUBDIR
    files = sorted(onnx_dir.glob("*.onnx"))
    if not files:
        raise BertDemoError(f"Run {name!r} has no ONNX files yet: export it first.")
    variant = "all" if _blank(variant) else str(variant)
    if variant != "all" and variant not in config.ONNX_FILES:
        raise BertDemoError(f"Unknown variant {variant!r}: pick one of {', '.join(config.ONNX_FILES)}.")
    model = onnx_dir / config.ONNX_FILES[variant] if variant != "all" else None
    if model is not None and not model.is_file():
        raise BertDemoError(f"Run {name!r} has no {variant} variant: export it again with that variant chosen.")
    run = onnx_dir.parent.name
    stamp = max(f.stat().st_mtime_ns for f in onnx_dir.iterdir())
    out_dir = Path(tempfile.gettempdir()) / f"{config.ZIP_DIR_PREFIX}onnx-{run}-{variant}-{stamp}"
    zipped = out_dir / f"{run}-{'onnx' if variant == 'all' else variant}.zip"
    if zipped.is_file():
        os.utime(out_dir)  # in use: not stale for the sweep
        return zipped
    staging = tempfiles.new_temp_dir(config.ZIP_DIR_PREFIX, config.ZIP_MAX_AGE_S)
    built = staging / zipped.name
    if model is None:
        shutil.make_archive(str(built.with_suffix("")), "zip", root_dir=onnx_dir.parent, base_dir=onnx_dir.name)
    else:
        # The one model file (and its external weights, if any) plus what loading it needs: config and tokenizer.
        others = {p for p in onnx_dir.iterdir() if p.suffix in (".onnx", ".onnx_data") and p.stem != model.stem}
        with zipfile.ZipFile(built, "w", zipfile.ZIP_DEFLATED) as zf:
            for path in sorted(onnx_dir.iterdir()):
                if path.is_file() and path not in others:
                    zf.write(path, f"{run}-{variant}/{path.name}")
    try:
        os.rename(staging, out_dir)  # atomic: a concurrent download sees no half zip
    except OSError:  # another request made it meanwhile
        shutil.rmtree(staging, ignore_errors=True)
        return zipped if zipped.is_file() else built
    return zipped
