"""Timing back-ends side by side so each runs as it would alone: one back-end's block of calls at a time.

Interleaving back-ends call by call in one process understates ONNX Runtime: PyTorch's OpenMP threads
(and a spinning ORT pool) keep spinning for a while after each call and steal the cores from whichever
runtime goes next. So each round times every back-end in its own block of calls, after a short rest in
which the previous runtime's threads go to sleep, and the block order rotates from round to round so
slow drifts of the machine (other processes, clocks) still hit all back-ends alike.

The rest has a price: the first call after it wakes the runtime's sleeping threads and is slower than the
calls that follow (with one typed text, the old one-call-per-text blocks timed nothing else, up to 2x the
same back-end alone). So that call is made untimed, and a block is then at least COMPARE_BLOCK_CALLS timed
calls back to back, whole passes over the texts, whatever their number: the steady state a script calling
the model in a loop sees. The first call after idle is real too (a Space's requests arrive seconds apart):
time_first_calls measures it on its own, after COMPARE_IDLE_S without calls, and it stays out of p50/p95.
"""

from __future__ import annotations

import gc
import math
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from bertdemo import config


@dataclass(frozen=True)
class Plan:
    """How the steady-state latency is taken: rounds of one block per back-end."""

    rounds: int
    block_calls: int  # timed calls per back-end per round (whole passes over the texts)
    texts: int
    rest_s: float = config.COMPARE_REST_S
    wake_calls: int = config.COMPARE_WAKE_CALLS  # untimed calls after each rest

    def as_dict(self) -> dict[str, Any]:
        """The plan as plain values, for the report."""
        return {
            "rounds": self.rounds,
            "block_calls": self.block_calls,
            "texts": self.texts,
            "rest_ms": round(self.rest_s * 1e3, 1),
            "wake_calls": self.wake_calls,
            "samples_per_backend": self.rounds * self.block_calls,
        }


def block_calls(n_texts: int, min_calls: int = config.COMPARE_BLOCK_CALLS) -> int:
    """Timed calls in one back-end's block: whole passes over the texts, at least min_calls."""
    n_texts = max(1, n_texts)
    return n_texts * max(1, math.ceil(min_calls / n_texts))


def method_text(plan: Plan) -> str:
    """How compare took the steady-state latency, in words for the dashboard and --json."""
    passes = plan.block_calls // max(1, plan.texts)
    cycling = (
        f"the one text {plan.block_calls} times"
        if plan.texts == 1
        else f"{passes} pass{'es' if passes > 1 else ''} over the {plan.texts} texts"
    )
    wake = f"{plan.wake_calls} untimed call{'s' if plan.wake_calls != 1 else ''}"
    return (
        f"steady state: each back-end timed in its own block, the others idle; before each block a "
        f"{plan.rest_s * 1e3:.0f} ms rest (the previous runtime's threads go to sleep) and {wake} to wake this "
        f"runtime (the first call after a rest is not a sample), then {plan.block_calls} timed calls back to "
        f"back ({cycling}); block order rotated every round; {plan.rounds} rounds after warm-up"
    )


def first_call_text(idle_s: float, rounds: int) -> str:
    """How the first call after idle was taken, in words."""
    return (
        f"one call per back-end after {idle_s:g} s without any call, {rounds} time{'s' if rounds != 1 else ''} "
        f"(back-ends {config.COMPARE_REST_S * 1e3:.0f} ms apart, order rotated); not part of p50/p95"
    )


def rotated(names: list[str], r: int) -> list[str]:
    """The list started at position r (mod its length): round r's order, so every item takes every place."""
    k = r % len(names)
    return names[k:] + names[:k]


def time_latency(
    loaded: dict[str, Any],
    texts: list[str],
    repeats: int,
    warmup: int,
    sync: Callable[[], None] = lambda: None,
    rest_s: float = config.COMPARE_REST_S,
    min_calls: int = config.COMPARE_BLOCK_CALLS,
    wake_calls: int = config.COMPARE_WAKE_CALLS,
) -> dict[str, list[float]]:
    """Seconds per call at batch 1, steady state: per round, one block of block_calls() timed calls per back-end.

    Each block: a rest, wake_calls untimed calls (the runtime's threads wake up), then the timed calls
    back to back, cycling over the texts.
    """
    names = list(loaded)
    for b in names:
        for i in range(warmup):
            loaded[b].predict([texts[i % len(texts)]], 1)
    sync()
    calls = block_calls(len(texts), min_calls)
    samples: dict[str, list[float]] = {b: [] for b in names}
    gc.collect()
    for r in range(repeats):
        for b in rotated(names, r):
            predict = loaded[b].predict
            time.sleep(rest_s)
            for i in range(wake_calls):
                predict([texts[(r + i) % len(texts)]], 1)
            sync()
            for i in range(calls):
                text = texts[i % len(texts)]
                start = time.perf_counter()
                predict([text], 1)
                sync()
                samples[b].append(time.perf_counter() - start)
    return samples


def time_first_calls(
    loaded: dict[str, Any],
    texts: list[str],
    rounds: int = config.COMPARE_IDLE_ROUNDS,
    idle_s: float = config.COMPARE_IDLE_S,
    sync: Callable[[], None] = lambda: None,
    rest_s: float = config.COMPARE_REST_S,
) -> dict[str, list[float]]:
    """Seconds of the first call after idle_s without calls: one per back-end per round, order rotated.

    One idle period serves every back-end of a round (each back-end's own threads idle that long; the
    others run rest_s apart, so their threads are asleep again), which keeps this within a few seconds.
    """
    names = list(loaded)
    samples: dict[str, list[float]] = {b: [] for b in names}
    for r in range(rounds):
        time.sleep(idle_s)
        for k, b in enumerate(rotated(names, r)):
            if k:
                time.sleep(rest_s)
            text = texts[r % len(texts)]
            start = time.perf_counter()
            loaded[b].predict([text], 1)
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
        for b in rotated(names, r):
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
