"""What a saved run's folder holds, in words and sizes, and a zip of the model alone (no data, no ONNX).

The whole-run zip (store.zip_run) carries the user's uploaded file, the audit and every ONNX variant too:
the Models tab says so, and offers this smaller one for someone who only wants to load the model.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

from bertdemo import config
from bertdemo.runs import store, tempfiles

# Files of a run that are data or by-products, not the model (the model alone leaves them out).
_DATA = {
    store.VALIDATION_CSV: "the validation rows (validation.csv)",
    store.AUDIT_JSON: "the data audit, with every training text (audit.json)",
    store.UPLOADED_CSV: "your uploaded file (uploaded.csv)",
    store.UPLOADED_CSV + ".gz": "your uploaded file (uploaded.csv.gz)",
    "training_args.bin": "the Trainer's settings (training_args.bin)",
}
_RECORD = {store.RUN_JSON, "README.md"}  # run.json and the model card
_WEIGHTS = {"model.safetensors", "pytorch_model.bin", "config.json"}


def _size(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def model_files(run_path: Path) -> list[Path]:
    """The files that load the model: weights, config, tokenizer, plus run.json and the model card."""
    return sorted(p for p in Path(run_path).iterdir() if p.is_file() and p.name not in _DATA)


MODEL_PARTS = ("model weights and config", "tokenizer", "run.json and the model card (README.md)")


def run_contents(run_path: Path) -> list[tuple[str, int, bool]]:
    """(what, bytes, in the model-alone zip) for each part of the run folder, the model first: the whole zip."""
    run_path = Path(run_path)
    parts: dict[str, int] = {}

    def add(what: str, size: int) -> None:
        parts[what] = parts.get(what, 0) + size

    for path in sorted(run_path.iterdir()):
        if path.is_dir():
            what = "ONNX variants (onnx/)" if path.name == config.ONNX_SUBDIR else f"folder {path.name}/"
            add(what, _size(path))
        elif path.name in _DATA:
            add(_DATA[path.name], _size(path))
        elif path.name in _RECORD:
            add("run.json and the model card (README.md)", _size(path))
        elif path.name in _WEIGHTS:
            add("model weights and config", _size(path))
        else:
            add("tokenizer", _size(path))
    order = {what: i for i, what in enumerate(MODEL_PARTS)}
    ranked = sorted(parts.items(), key=lambda kv: order.get(kv[0], len(order)))
    return [(what, size, what in order) for what, size in ranked]


def zip_model(name: str, dest_dir: Path | None = None, root: Path | None = None) -> Path:
    """<name>-model.zip: the model alone (model_files), loadable with transformers' from_pretrained."""
    path = store.run_dir(name, root)
    out_dir = Path(dest_dir) if dest_dir else tempfiles.new_temp_dir(config.ZIP_DIR_PREFIX, config.ZIP_MAX_AGE_S)
    out = out_dir / f"{path.name}-model.zip"
    partial = out.with_name(f".{out.name}.part")
    with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED) as zf:
        for file in model_files(path):
            zf.write(file, f"{path.name}/{file.name}")
    partial.replace(out)
    return out
