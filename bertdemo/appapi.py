"""What the web app does, as plain functions: JSON-able values in and out, no gradio.

The UI tabs and the named API endpoints both call these, so tests (and scripts)
can use them without a browser. Errors are BertDemoError with a one-line message;
the UI edge turns them into gr.Error.
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path
from typing import Any

from bertdemo import access, config, store, tempfiles
from bertdemo.errors import BertDemoError
from bertdemo.jobs import JobRunner, TrainRequest

log = logging.getLogger(__name__)

# Settings a /train caller may pass, with the type each is read as.
_SETTING_TYPES: dict[str, type] = {
    "name": str,
    "model": str,
    "text_column": str,
    "label_column": str,
    "epochs": int,
    "learning_rate": float,
    "batch_size": int,
    "max_length": int,
    "val_fraction": float,
    "warmup_ratio": float,
    "weight_decay": float,
    "early_stopping": int,
    "seed": int,
    "max_rows": int,
}
_AUTO_WHEN_ZERO = ("learning_rate", "batch_size")  # blank or 0 means "choose for the data size"


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


def parse_settings(settings: dict[str, Any] | None) -> dict[str, Any]:
    """Read training settings (numbers may come as strings); blank means default, lr/batch 0 means auto."""
    settings = dict(settings or {})
    unknown = sorted(set(settings) - set(_SETTING_TYPES))
    if unknown:
        raise BertDemoError(f"Unknown training setting(s) {', '.join(unknown)}: use {', '.join(_SETTING_TYPES)}.")
    out: dict[str, Any] = {}
    for key, value in settings.items():
        kind = _SETTING_TYPES[key]
        if _blank(value):
            continue
        if kind is str:
            out[key] = str(value).strip()
            continue
        try:
            number = float(value)
            if kind is int:
                if number != int(number):
                    raise ValueError
                number = int(number)
        except (TypeError, ValueError):
            expected = "a whole number" if kind is int else "a number"
            raise BertDemoError(f"Setting {key} must be {expected} (got {value!r}).") from None
        if key in _AUTO_WHEN_ZERO and number == 0:
            continue
        out[key] = number
    return out


def make_request(
    csv_path: str | Path | None, settings: dict[str, Any] | None, root: Path | None = None
) -> TrainRequest:
    """A checked TrainRequest: bad settings, data or base model fail here, before any process starts."""
    from bertdemo import basemodels, data, splits

    path = _need_file(csv_path)
    values = parse_settings(settings)
    values.setdefault("model", config.DEFAULT_MODEL)
    values["name"] = store.check_new_name(values.get("name") or store.default_run_name(values["model"]), root)
    request = TrainRequest(csv_path=str(path), **values)
    request.train_config().validate()
    loaded = data.read_labeled_csv(path, request.text_column, request.label_column, request.max_rows, request.seed)
    splits.split_data(loaded, request.val_fraction, request.seed)
    basemodels.resolve_base_model(request.model)
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


def stop_training(runner: JobRunner, job_id: str, owner: str | None = None) -> dict[str, Any]:
    """Ask a job to stop at its next step; nothing is saved."""
    if _blank(job_id):
        raise BertDemoError("No job id: nothing to stop.")
    return runner.stop(str(job_id).strip(), owner)


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
    """A zip of models/<name>/onnx for download: every variant, or one (its .onnx plus config and tokenizer)."""
    import zipfile

    if _blank(name):
        raise BertDemoError("No run chosen: pick an exported run.")
    onnx_dir = access.check_visible(name, owner, root) / config.ONNX_SUBDIR
    if not any(onnx_dir.glob("*.onnx")):
        raise BertDemoError(f"Run {name!r} has no ONNX files yet: export it first.")
    out_dir = tempfiles.new_temp_dir(config.ZIP_DIR_PREFIX, config.ZIP_MAX_AGE_S)
    if _blank(variant) or variant == "all":
        base = out_dir / f"{onnx_dir.parent.name}-onnx"
        return Path(shutil.make_archive(str(base), "zip", root_dir=onnx_dir.parent, base_dir=onnx_dir.name))
    if variant not in config.ONNX_FILES:
        raise BertDemoError(f"Unknown variant {variant!r}: pick one of {', '.join(config.ONNX_FILES)}.")
    model = onnx_dir / config.ONNX_FILES[variant]
    if not model.is_file():
        raise BertDemoError(f"Run {name!r} has no {variant} variant: export it again with that variant chosen.")
    # The one model file (and its external weights, if any) plus what loading it needs: config and tokenizer.
    other_models = {p for p in onnx_dir.iterdir() if p.suffix in (".onnx", ".onnx_data") and p.stem != model.stem}
    keep = [p for p in sorted(onnx_dir.iterdir()) if p.is_file() and p not in other_models]
    target = out_dir / f"{onnx_dir.parent.name}-{variant}.zip"
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in keep:
            zf.write(path, f"{onnx_dir.parent.name}-{variant}/{path.name}")
    return target
