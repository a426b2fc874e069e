"""ONNX from the app: export a run with its checks, and compare the back-ends (plain values, no gradio)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bertdemo import config, hardware
from bertdemo.errors import BertDemoError
from bertdemo.runs import access, quota
from bertdemo.service.common import is_blank
from bertdemo.service.lowpriority import run_low_priority
from bertdemo.training.coreshare import serving


def export(
    name: str,
    optimize: bool = False,
    quantize: bool = False,
    root: Path | None = None,
    progress=None,
    owner: str | None = None,
) -> dict[str, Any]:
    """Export a run to ONNX (and optionally optimized / int8 variants) and check each against PyTorch.

    Only the owner's runs: a shared run is read-only here (an export replaces its onnx/ folder, which every
    visitor uses).
    """
    from bertdemo.inference.predictors import clear_cache
    from bertdemo.onnx.export import export_run

    if is_blank(name):
        raise BertDemoError("No run chosen: pick the run to export.")
    key = access.check_owned(name, owner, root).name  # the run's folder: a visitor's names are their own
    quota.check_room(access.owner_key(owner), root, new_run=False)  # an export adds up to ~180 MB
    with access.as_seen_by(name, owner, root):
        report = run_low_priority(
            export_run, key, optimize=bool(optimize), quantize=bool(quantize), root=root, progress=progress
        )  # the app's quick answers go first (service.lowpriority)
    clear_cache(key)  # a re-export replaces files that a cached ONNX session may hold
    hardware.release_memory()  # the export's peak is not kept for the server's lifetime
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
    from bertdemo.onnx.compare import compare_backends

    if is_blank(name):
        raise BertDemoError("No run chosen: pick a saved run (export it first to compare ONNX back-ends).")
    items = split_texts(texts)
    if not items:
        raise BertDemoError("Type at least one review to compare (one per line).")
    key = access.check_visible(name, owner, root).name
    with access.as_seen_by(name, owner, root), serving():  # a training job beside it leaves the timings a core
        return compare_backends(
            key, items, root=root, repeats=repeats, throughput_limit=config.UI_COMPARE_THROUGHPUT_TEXTS
        )
