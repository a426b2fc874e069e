"""Timing back-ends side by side so each runs as it would alone: one back-end's block of calls at a time.

Interleaving back-ends call by call in one process understates ONNX Runtime: PyTorch's OpenMP threads
(and a spinning ORT pool) keep spinning for a while after each call and steal the cores from whichever
runtime goes next. So each round times every back-end in its own block of calls, after a short rest in
which the previous runtime's threads go to sleep, and the block order rotates from round to round so
slow drifts of the machine (other processes, clocks) still hit all back-ends alike.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from bertdemo import config

METHOD = (
    "each back-end timed in its own block of calls (the others idle, {rest_ms:.0f} ms rest before each block so "
    "the previous runtime's threads sleep), block order rotated every round, after warm-up"
)


def method_text(rest_s: float = config.COMPARE_REST_S) -> str:
    """How compare times the back-ends, in words for the dashboard."""
    return METHOD.format(rest_ms=rest_s * 1e3)


def _rotated(names: list[str], r: int) -> list[str]:
    k = r % len(names)
    return names[k:] + names[:k]


def time_latency(
    loaded: dict[str, Any],
    texts: list[str],
    repeats: int,
    warmup: int,
    sync: Callable[[], None] = lambda: None,
    rest_s: float = config.COMPARE_REST_S,
) -> dict[str, list[float]]:
    """Seconds per call at batch 1: every text once per back-end per round, one back-end's block at a time."""
    names = list(loaded)
    for b in names:
        for i in range(warmup):
            loaded[b].predict([texts[i % len(texts)]], 1)
    sync()
    samples: dict[str, list[float]] = {b: [] for b in names}
    gc.collect()
    for r in range(repeats):
        for b in _rotated(names, r):
            predict = loaded[b].predict
            time.sleep(rest_s)
            for text in texts:
                start = time.perf_counter()
                predict([text], 1)
                sync()
                samples[b].append(time.perf_counter() - start)
    return samples


def time_throughput(
    loaded: dict[str, Any],
    texts: list[str],
    batch_size: int,
    warmup: int,
    sync: Callable[[], None] = lambda: None,
    repeats: int = config.BENCH_THROUGHPUT_REPEATS,
    rest_s: float = config.COMPARE_REST_S,
) -> dict[str, float]:
    """Texts per second over the whole list at batch_size (median of a few passes, order rotated)."""
    names = list(loaded)
    if warmup:
        for b in names:
            loaded[b].predict(texts[:batch_size], batch_size)
    sync()
    seconds: dict[str, list[float]] = {b: [] for b in names}
    gc.collect()
    for r in range(repeats):
        for b in _rotated(names, r):
            time.sleep(rest_s)
            start = time.perf_counter()
            loaded[b].predict(texts, batch_size)
            sync()
            seconds[b].append(time.perf_counter() - start)
    return {b: len(texts) / sorted(s)[len(s) // 2] for b, s in seconds.items()}


def synchronizer(loaded) -> Callable[[], None]:
    """torch.cuda.synchronize when a back-end runs on CUDA (timings must include the GPU work), else a no-op."""
    if any(p.device == "cuda" for p in loaded):
        import torch

        return torch.cuda.synchronize
    return lambda: None


@contextmanager
def torch_threads(n: int) -> Iterator[int]:
    """PyTorch intra-op threads set to n for the block, then put back (the app serves with fewer)."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(max(1, n))
    try:
        yield torch.get_num_threads()
    finally:
        torch.set_num_threads(before)
