"""Predictors for saved runs: load once, keep the recently used (bounded), reload when a run changes.

The back-ends themselves live in bertdemo.inference.backends; their names are importable from here too.
"""

from __future__ import annotations

import logging
import os
import threading
from collections import OrderedDict
from pathlib import Path

from bertdemo import config, hardware
from bertdemo.errors import NotExported
from bertdemo.hardware import OrtPolicy
from bertdemo.inference.backends import (  # noqa: F401 - re-exported: callers import the back-ends from here
    ONNX_BACKENDS,
    OnnxPredictor,
    Prediction,
    Predictor,
    TorchPredictor,
    as_texts,
    check_backend,
    onnx_file,
    ort_providers,
    softmax,
)
from bertdemo.runs import store

log = logging.getLogger(__name__)

_EXPORT_FLAGS = {"onnx-optimized": " --optimize", "onnx-int8": " --quantize"}

# Least recently used first; at most config.PREDICTOR_CACHE_SIZE entries, so a server that has been asked
# about many runs keeps the back-ends in use, not every model it ever loaded.
_cache: OrderedDict[tuple[str, str], tuple[tuple[int, int], Predictor]] = OrderedDict()
_cache_lock = threading.Lock()
_load_locks: dict[tuple[str, str], threading.Lock] = {}
# (name as asked, models folder, back-end) -> cache key, for names already resolved once: a served request
# then costs one stat of run.json instead of store.run_dir's path checks (bench/infer_bench.py's served overhead).
_resolved: dict[tuple[str, str, str], tuple[str, str]] = {}


def _stamp(run_path: Path) -> tuple[int, int]:
    """run.json's mtime and inode: a re-exported, deleted or recreated run gets a new stamp."""
    st = (run_path / store.RUN_JSON).stat()
    return st.st_mtime_ns, st.st_ino


def require_export(name: str, run_path: Path, backend: str) -> Path:
    """The variant's .onnx file, or NotExported saying which export command makes it."""
    path = onnx_file(run_path, backend)
    if path.is_file():
        return path
    if backend == "onnx" or not onnx_file(run_path, "onnx").is_file():
        raise NotExported(
            f"Run {name!r} has no ONNX export yet: export it first.",
            cli_hint=f"(command line: python -m bertdemo export {name})",
        )
    raise NotExported(
        f"Run {name!r} has no {backend} variant: export it again with that variant chosen.",
        cli_hint=f"(command line: python -m bertdemo export {name}{_EXPORT_FLAGS.get(backend, '')})",
    )


def make_predictor(run_path: Path, backend: str, policy: OrtPolicy | None = None) -> Predictor:
    """A new, uncached predictor (compare times its own, with the thread policy of a process that owns the cores)."""
    return TorchPredictor(run_path) if backend == "pytorch" else OnnxPredictor(run_path, backend, policy=policy)


def _cached(key: tuple[str, str], stamp: tuple[int, int]) -> Predictor | None:
    """The cached predictor for key if still current, marked as most recently used (caller holds _cache_lock)."""
    hit = _cache.get(key)
    if hit is None or hit[0] != stamp:
        return None
    _cache.move_to_end(key)
    return hit[1]


def load_predictor(name: str, backend: str = "pytorch", root: Path | None = None) -> Predictor:
    """The predictor for a saved run and back-end, loaded once and cached (thread-safe, least recently used out)."""
    asked = (str(name), str(root if root is not None else config.MODELS_DIR), backend)
    known = _resolved.get(asked)
    if known is not None:
        try:
            st = os.stat(os.path.join(known[0], store.RUN_JSON))
            stamp = (st.st_mtime_ns, st.st_ino)
        except OSError:  # deleted: the full lookup below says so
            stamp = None
        with _cache_lock:
            hit = _cached(known, stamp) if stamp is not None else None
        if hit is not None:
            return hit
    check_backend(backend)
    run_path = store.run_dir(name, root)
    if backend != "pytorch":
        require_export(name, run_path, backend)
    key = (str(run_path), backend)
    try:
        stamp = _stamp(run_path)
    except FileNotFoundError:  # deleted since run_dir looked: say so the usual way
        store.run_dir(name, root)
        raise
    with _cache_lock:
        hit = _cached(key, stamp)
        if hit is not None:
            return hit
        load_lock = _load_locks.setdefault(key, threading.Lock())
    # One load per key at a time: ten requests arriving together load the model once.
    with load_lock:
        with _cache_lock:
            hit = _cached(key, stamp)
            if hit is not None:
                return hit
            _cache.pop(key, None)  # drop a stale model before loading the new one: never two in memory
            # Make room first, so the cache never holds more than its size, even while loading.
            while len(_cache) >= max(1, config.PREDICTOR_CACHE_SIZE):
                old = _evict_oldest()
                log.info(
                    "unloading %s predictor for %s (cache holds %d)",
                    old[1],
                    old[0],
                    config.PREDICTOR_CACHE_SIZE,
                )
        log.info("loading %s predictor for run %s", backend, run_path.name)
        predictor = make_predictor(run_path, backend)
        if backend == "onnx-int8":  # once per load: an operator reading the log learns why answers may differ
            fit = hardware.int8_fit((store.load_run(name, root).get("exports") or {}).get("int8_preset"))
            if fit:
                log.warning("run %s: %s", run_path.name, fit)
        with _cache_lock:
            _cache[key] = (stamp, predictor)
            _resolved[asked] = key
            while len(_cache) > max(1, config.PREDICTOR_CACHE_SIZE):  # two loads of different keys raced
                _evict_oldest()
    return predictor


def _evict_oldest() -> tuple[str, str]:
    """Drop the least recently used predictor and what points at it (caller holds _cache_lock)."""
    old, _ = _cache.popitem(last=False)
    _load_locks.pop(old, None)
    _forget(lambda key: key == old)
    return old


def _forget(match) -> None:
    for asked in [a for a, key in _resolved.items() if match(key)]:
        del _resolved[asked]


def clear_cache(name: str | None = None) -> None:
    """Forget cached predictors: all of them, or those of one run name (in any models folder)."""
    with _cache_lock:
        if name is None:
            _cache.clear()
            _resolved.clear()
            return
        clean = store.sanitize_name(name)
        for key in [k for k in _cache if Path(k[0]).name == clean]:
            del _cache[key]
        _forget(lambda key: Path(key[0]).name == clean)
