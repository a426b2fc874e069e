"""Saved runs from the app: list, load, delete, download as zip; the owner rules apply (plain values, no gradio)."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from bertdemo import config
from bertdemo.errors import BertDemoError
from bertdemo.runs import access, store, tempfiles
from bertdemo.service.common import is_blank


def list_models(root: Path | None = None, owner: str | None = None) -> list[dict[str, Any]]:
    """Summaries of the runs this owner sees (theirs and the shared ones), newest first; access: yours/shared."""
    return access.visible_runs(store.list_runs(root), owner)


def run_names(root: Path | None = None, owner: str | None = None) -> list[str]:
    """Names of the runs this owner sees, newest first."""
    return access.visible_names(owner, root)


def delete_model(name: str, root: Path | None = None, owner: str | None = None) -> dict[str, Any]:
    """Delete a saved run of this owner (and forget its loaded models); shared runs are read-only."""
    from bertdemo.inference import explain
    from bertdemo.inference.predictors import clear_cache

    if is_blank(name):
        raise BertDemoError("No run chosen: pick the run to delete.")
    key = access.check_owned(name, owner, root).name
    with access.as_seen_by(name, owner, root):  # two deletes at once: the second finds no run
        store.delete_run(key, root)
    clear_cache(key)
    explain.forget(key)
    return {"deleted": store.sanitize_name(name)}


def load_run(name: str, root: Path | None = None, owner: str | None = None) -> dict[str, Any]:
    """A saved run's run.json."""
    if is_blank(name):
        raise BertDemoError("No run chosen: pick a saved run.")
    key = access.check_visible(name, owner, root).name
    with access.as_seen_by(name, owner, root):
        return store.load_run(key, root)


def zip_run(name: str, root: Path | None = None, owner: str | None = None) -> Path:
    """A zip of the whole run folder, for download."""
    if is_blank(name):
        raise BertDemoError("No run chosen: pick the run to download.")
    key = access.check_visible(name, owner, root).name
    with access.as_seen_by(name, owner, root):
        return store.zip_run(key, root=root)


def zip_model(name: str, root: Path | None = None, owner: str | None = None) -> Path:
    """A zip of the model alone (weights, config, tokenizer, run.json, model card): no data, no ONNX."""
    from bertdemo.runs import bundle

    if is_blank(name):
        raise BertDemoError("No run chosen: pick the run to download.")
    access.check_visible(name, owner, root)
    with access.as_seen_by(name, owner, root):
        return bundle.zip_model(name, root=root)


def run_contents(name: str | None, root: Path | None = None, owner: str | None = None) -> list[tuple[str, int, bool]]:
    """(what, bytes, in the model-alone zip) of each part of a run's folder, as its whole zip holds them."""
    from bertdemo.runs import bundle

    if is_blank(name):
        return []
    return bundle.run_contents(access.check_visible(str(name), owner, root))


def zip_onnx(name: str, root: Path | None = None, owner: str | None = None, variant: str | None = None) -> Path:
    """A zip of models/<name>/onnx for download: every variant, or one (its .onnx plus config and tokenizer).

    Made once per export and variant, then reused (swept with the other zips): a second download of the
    ~180 MB folder is not zipped again.
    """
    import zipfile

    if is_blank(name):
        raise BertDemoError("No run chosen: pick an exported run.")
    onnx_dir = access.check_visible(name, owner, root) / config.ONNX_SUBDIR
    files = sorted(onnx_dir.glob("*.onnx"))
    if not files:
        raise BertDemoError(f"Run {name!r} has no ONNX files yet: export it first.")
    variant = "all" if is_blank(variant) else str(variant)
    if variant != "all" and variant not in config.ONNX_FILES:
        raise BertDemoError(f"Unknown variant {variant!r}: pick one of {', '.join(config.ONNX_FILES)}.")
    model = onnx_dir / config.ONNX_FILES[variant] if variant != "all" else None
    if model is not None and not model.is_file():
        raise BertDemoError(f"Run {name!r} has no {variant} variant: export it again with that variant chosen.")
    run = onnx_dir.parent.name
    stamp = max(f.stat().st_mtime_ns for f in onnx_dir.iterdir())
    out_dir = Path(tempfile.gettempdir()) / f"{config.ZIP_DIR_PREFIX}onnx-{run}-{variant}-{stamp}"
    zipped = out_dir / f"{store.display_name(run)}-{'onnx' if variant == 'all' else variant}.zip"
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
