"""Heavy in-process work (an export, a whole file's predictions) on threads that yield the CPU first.

A Space has two cores. A visitor's /predict or "Try it" takes tens of milliseconds alone; beside an export or a
100,000-row file at the same priority it waits for its share of both cores (bench/abuse_bench.py measured p95 at
4.6x its quiet value, 3.1-3.3x with this and niced jobs). Training jobs run niced (jobs.kinds.lower_priority);
this does the same for the heavy work that runs inside the app's process. On Linux a thread's nice value is its
own, and the threads it starts afterwards (torch's OpenMP team, ONNX Runtime's pool) inherit it, so the work runs
on a dedicated thread niced before its first torch call. Where nice values are per process, nothing changes.
"""

from __future__ import annotations

import contextvars
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from bertdemo import config

T = TypeVar("T")


def lower_this_thread(niceness: int | None = None) -> bool:
    """Lower the calling thread's priority (Linux: per thread); True when it took effect."""
    niceness = config.HEAVY_NICENESS if niceness is None else niceness
    if niceness <= 0 or not hasattr(os, "setpriority"):
        return False
    try:
        tid = threading.get_native_id()
        os.setpriority(os.PRIO_PROCESS, tid, max(niceness, os.getpriority(os.PRIO_PROCESS, tid)))
    except OSError:  # not allowed here: the work runs at the app's priority
        return False
    return True


# Two workers: an export (the heavy concurrency group) and a page's file prediction (its own slot) may overlap.
_POOL = ThreadPoolExecutor(max_workers=2, thread_name_prefix="low-priority", initializer=lower_this_thread)


def run_low_priority(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """fn(*args, **kwargs) on a low-priority thread; waits and returns its result (or raises its error).

    The caller's context variables go along (gradio's progress bar finds its event through them).
    """
    context = contextvars.copy_context()
    return _POOL.submit(context.run, fn, *args, **kwargs).result()
