"""A training job's share of the cores: all of them while nobody is predicting, all but one while the app serves.

The app (one process) and a training job (a subprocess) share a small machine. A job started from the app
keeps a core free for the visitors' predictions (hardware.job_threads); while nobody predicts, that core idles.
So the app marks when it last served a prediction (the modification time of a small file), and the job, before
each training step, takes every core when the mark is older than config.JOB_SHARE_QUIET_S and gives one back
as soon as it is newer (training.callbacks.CoreShareCallback). The job runs niced, so even the step during which
a visitor arrives leaves the visitor ahead (bench/coreshare_bench.py measures what the visitor's p95 pays for it
and what training gains).
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from bertdemo import config, hardware

MARK_ENV = "BERTDEMO_SERVING_MARK"  # the job's environment: the app's mark file
_TOUCH_EVERY_S = 0.5  # a burst of predictions touches the mark once per half second, not once per call
_HOLD_S = 900.0  # serving(): the mark's time ahead of now while a block runs
_PREFIX = "bertdemo-serving-"

_mark: Path | None = None
_touched = 0.0
_holds = 0  # blocks of work in progress (serving()): the mark stays in the future until the last one ends
_lock = threading.RLock()  # the mark is set under it: a block that ends never undoes one that began


def serving_mark() -> Path:
    """This process's mark file, in a private folder of its own (made on first use, removed at exit)."""
    global _mark
    with _lock:
        if _mark is None:
            sweep_orphans()
            # mkdtemp: mode 0700 and a name nobody can guess, so no one else can plant a link where the mark goes.
            folder = Path(tempfile.mkdtemp(prefix=_PREFIX))
            atexit.register(shutil.rmtree, folder, True)
            (folder / "pid").write_text(str(os.getpid()))
            _mark = folder / "mark"
    return _mark


def sweep_orphans() -> list[str]:
    """Remove the mark folders of app processes that ended without running atexit (SIGTERM, SIGKILL); their names.

    Only this user's folders that name their process (a `pid` file) and whose process is gone: a folder of a
    live app, another user's, or one of unknown origin stays.
    """
    removed = []
    for folder in Path(tempfile.gettempdir()).glob(_PREFIX + "*"):
        try:
            if folder.is_symlink() or folder.stat().st_uid != os.getuid():
                continue
            pid = int((folder / "pid").read_text())
        except (OSError, ValueError):
            continue
        if not _alive(pid):
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder.name)
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, someone else's
        return True
    return True


def _set_mark(when: float) -> None:
    mark = serving_mark()
    try:
        mark.touch()
        os.utime(mark, (when, when))
    except OSError:  # a full or read-only temp folder: the job keeps its default share
        pass


def note_serving() -> None:
    """The app answers a prediction now: a job sharing the machine leaves it a core for JOB_SHARE_QUIET_S."""
    global _touched
    now = time.monotonic()
    with _lock:
        if _holds or now - _touched < _TOUCH_EVERY_S:
            return
        _touched = now
        _set_mark(time.time())


@contextmanager
def serving() -> Iterator[None]:
    """Around longer work (Compare's timings, a whole file's predictions): the job leaves a core until it ends.

    The mark is set HOLD_S ahead, so a job sees the app as serving for the whole block (and no longer than that
    should the app die inside it); when the last block ends the usual quiet time counts from then.
    """
    global _holds
    with _lock:
        _holds += 1
        _set_mark(time.time() + _HOLD_S)
    try:
        yield
    finally:
        with _lock:
            _holds -= 1
            if _holds == 0:
                _set_mark(time.time())


def job_env() -> dict[str, str]:
    """What a job's environment needs to follow this process's serving (nothing when pinned or turned off)."""
    if not config.JOB_ALL_CORES_WHEN_QUIET or config.JOB_TORCH_THREADS > 0:
        return {}
    return {MARK_ENV: str(serving_mark())}


def serving_recently(mark: Path, quiet_s: float, now: float | None = None) -> bool:
    """True when the app served a prediction within the last `quiet_s` seconds (a missing mark: never served)."""
    try:
        served = mark.stat().st_mtime
    except OSError:
        return False
    return (time.time() if now is None else now) - served < quiet_s


def job_share() -> tuple[Path, int, int] | None:
    """For a job the app started (its mark in the environment): (mark, threads while serving, while quiet).

    None where there is nothing to share: a job started elsewhere, threads pinned, the feature off, one CPU.
    """
    mark = os.environ.get(MARK_ENV)
    if not mark or not config.JOB_ALL_CORES_WHEN_QUIET or config.JOB_TORCH_THREADS > 0:
        return None
    quiet = hardware.usable_cpus()
    busy = hardware.job_threads()
    return (Path(mark), busy, quiet) if busy < quiet else None
