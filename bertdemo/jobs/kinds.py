"""The two kinds of training job behind one small interface: launch, poll, progress, request_stop.

ProcessJob runs `python -m bertdemo train --request FILE` in its own session: a crash or kill
cannot take the server down. ThreadJob runs the same pipeline in a thread of the server, for
ZeroGPU Spaces, where the GPU is only granted to calls in this process.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bertdemo import config
from bertdemo.errors import BertDemoError, one_line
from bertdemo.runs import access, store
from bertdemo.runs.records import TrainingProgress
from bertdemo.training.monitor import KEEP_BEST, TrainingMonitor
from bertdemo.training.pipeline import TrainRequest

log = logging.getLogger(__name__)


@dataclass
class Job:
    """One training job: who started it, where its files are, and how it ended."""

    id: str
    owner: str
    request: TrainRequest  # as asked: csv_path is the upload; the job trains on its own copy in workdir
    workdir: Path
    root: Path | None = None
    started: float = field(default_factory=time.time)
    state: str = "running"  # running | done | failed | stopped
    result: dict[str, Any] | None = None
    error: str | None = None
    stop_requested_at: float | None = None
    ended: float | None = None  # when it stopped running (the Done line's "in all" is ended - started)
    stop_reason: str | None = None  # why the app stopped it (its time limit), told instead of "stopped"

    @property
    def status_path(self) -> Path:
        return self.workdir / "status.json"

    @property
    def stop_path(self) -> Path:
        return self.workdir / "STOP"

    @property
    def csv_copy(self) -> Path:
        return self.workdir / "data.csv"

    def request_stop(self, keep_best: bool = False) -> None:
        """Ask the job to stop at its next step (it saves nothing, or the best epoch so far with keep_best)."""
        self.stop_requested_at = self.stop_requested_at or time.time()
        try:
            self.stop_path.write_text(KEEP_BEST if keep_best else "")
        except FileNotFoundError:  # the job ended and its folder was removed meanwhile: nothing to stop
            pass

    def launch(self) -> None:  # pragma: no cover - interface
        raise NotImplementedError

    def poll(self) -> str:  # pragma: no cover - interface
        raise NotImplementedError

    def progress(self) -> TrainingProgress:  # pragma: no cover - interface
        raise NotImplementedError


@dataclass
class ProcessJob(Job):
    """A job in a subprocess: status file and stop file in workdir, outcome from its exit status and output."""

    command: list[str] = field(default_factory=list)
    env: dict[str, str] | None = None
    cwd: str | None = None
    stop_grace_s: float = 60.0  # after a stop request, the step in flight may take this long before SIGTERM
    kill_grace_s: float = 30.0  # after SIGTERM, the clean-up may take this long before SIGKILL
    process: subprocess.Popen | None = None
    terminated_at: float | None = None
    final_progress: dict[str, Any] | None = None  # kept in memory once the job's folder is removed
    _collect_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def launch(self) -> None:
        """Start the process; its stdout and stderr go to files in workdir."""
        with open(self.workdir / "stdout.txt", "wb") as out, open(self.workdir / "stderr.txt", "wb") as err:
            # New session: a Ctrl-C on the server's terminal does not hit the job twice.
            self.process = subprocess.Popen(
                self.command, stdout=out, stderr=err, env=self.env, start_new_session=True, cwd=self.cwd
            )
        lower_priority(self.process.pid)

    def poll(self) -> str:
        """The state now; escalates an unheeded stop to SIGTERM, then SIGKILL; collects the outcome once."""
        if self.state != "running":
            return self.state
        code = self.process.poll()
        if code is None:
            self._escalate()
            return "running"
        # Two sessions polling at once must not both collect: the first removes the folder.
        with self._collect_lock:
            if self.state == "running":
                self._collect(code)
        return self.state

    def _escalate(self) -> None:
        now = time.time()
        if self.stop_requested_at is None or now - self.stop_requested_at <= self.stop_grace_s:
            return
        if self.terminated_at is None:
            self.terminated_at = now
            self.process.terminate()  # the CLI's staging cleanup still runs on SIGTERM
        elif now - self.terminated_at > self.kill_grace_s:
            log.warning("job %s ignored SIGTERM for %.0f s: killing it", self.id, now - self.terminated_at)
            self.process.kill()  # stuck in native code, or SIGTERM ignored: its staging is swept on collect

    def _collect(self, code: int) -> None:
        """Read the outcome, then remove the folder (the user's data is not kept); the state is set last,
        so a poll from another session that sees the job ended also sees its progress."""
        self.final_progress = self.progress()
        state, self.result, self.error = self._read_outcome(code)
        shutil.rmtree(self.workdir, ignore_errors=True)
        if state != "done":
            store.sweep_staging(self.root)  # a killed process cannot remove its staging folder
        self.ended = time.time()
        self.state = state

    def _read_outcome(self, code: int) -> tuple[str, dict[str, Any] | None, str | None]:
        """(state, result, error) from the exit status, the last stdout line and the `error:` lines."""
        out = _read_lines(self.workdir / "stdout.txt")
        err = _read_lines(self.workdir / "stderr.txt")
        if code == 0 and out:
            try:
                return "done", json.loads(out[-1]), None
            except ValueError:
                pass
        error_lines = [line for line in err if line.startswith("error:")]
        if error_lines:
            # The CLI appends "(command line: --flag)" hints; the app's users have no command line.
            error = re.sub(r"\s*\(command line: [^)]*\)$", "", error_lines[-1][len("error:") :].strip())
        elif code < 0 and self.stop_requested_at:
            error = "Training was stopped (it did not stop in time, so it was killed): nothing was saved."
        elif code < 0:
            error = _killed_message(-code)
        else:
            # A crash: its traceback names server paths and code, so it goes to the log, not to the visitor.
            log.warning("job %s ended with exit status %s; its last output:\n%s", self.id, code, "\n".join(err[-30:]))
            error = f"Training failed unexpectedly (exit status {code}): the details are in the server log."
        return ("stopped" if self.stop_requested_at else "failed"), None, _with_kept_quick(error, self.final_progress)

    def progress(self) -> TrainingProgress:
        """The status file's snapshot (or the one kept once the job ended)."""
        if self.final_progress is not None:
            return dict(self.final_progress)
        try:
            return json.loads(self.status_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):  # not written yet: the subprocess is still importing
            snap = TrainingMonitor().snapshot()
            snap.update(epochs=self.request.epochs or 0, elapsed=round(time.time() - self.started, 1))
            return snap


@dataclass
class ThreadJob(Job):
    """A job in a thread of this process, optionally inside a wrapper that grants the GPU (spaces.GPU)."""

    gpu_wrapper: Callable | None = None
    monitor: TrainingMonitor | None = None
    thread: threading.Thread | None = None
    final_progress: TrainingProgress | None = None  # the monitor's last snapshot, as the (maybe forked) run returned it

    def launch(self) -> None:
        """Start the thread."""
        from dataclasses import replace

        self.monitor = TrainingMonitor(status_path=self.status_path, stop_path=self.stop_path)
        request = replace(self.request, csv_path=str(self.csv_copy))

        def run() -> tuple[str, dict[str, Any] | None, str | None, TrainingProgress]:
            # On ZeroGPU, spaces.GPU runs this in a forked worker and hands back only what it returns: the outcome
            # and the last progress travel in the return value, never as changes to this object.
            from bertdemo.training.pipeline import train_from_request

            try:
                owner = access.owner_key(self.owner)
                result = train_from_request(request, monitor=self.monitor, root=self.root, owner=owner)
            except BertDemoError as exc:  # already reported to the monitor by the pipeline
                state = "stopped" if self.monitor.stop_requested else "failed"
                return state, None, str(exc), self.monitor.snapshot()
            return "done", result, None, self.monitor.snapshot()

        target = self.gpu_wrapper(run) if self.gpu_wrapper else run

        def guarded() -> None:
            # Whatever happens (the GPU wrapper refusing, a crash, a failing failure report), the job ends:
            # a job left "running" would make every later Train "Busy" until a restart.
            outcome: tuple[str, dict[str, Any] | None, str | None] = (
                "failed",
                None,
                "Training ended without a result (see the server log).",
            )
            try:
                state, result, error, self.final_progress = target()
                outcome = (state, result, error)
            except BaseException as exc:  # noqa: BLE001 - a thread must report, not die silently
                log.exception("training job %s crashed", self.id)
                outcome = ("failed", None, f"Training crashed: {type(exc).__name__}: {exc}")
            finally:
                # The user's data and the job folder are not kept (the monitor holds the progress), and they are
                # gone before the job says it ended: whoever sees it ended finds nothing of it left on disk.
                self._end(*outcome, before_publishing=lambda: shutil.rmtree(self.workdir, ignore_errors=True))
                shutil.rmtree(self.workdir, ignore_errors=True)  # also when something else ended it first

        self.thread = threading.Thread(target=guarded, name=f"train-{self.id}", daemon=True)
        self.thread.start()

    def _end(
        self,
        state: str,
        result: dict[str, Any] | None = None,
        error: str | None = None,
        before_publishing: Callable[[], None] = lambda: None,
    ) -> None:
        """Record the outcome, run before_publishing, and only then set the state other threads poll."""
        if self.state != "running":
            return
        self.result, self.error = result, (one_line(error) if error else None)
        if state != "done":
            try:
                self.monitor.fail(self.error or "", state)
            except Exception:  # noqa: BLE001 - the status file is a mirror; the state below is what counts
                log.exception("job %s: could not record its failure", self.id)
        try:
            before_publishing()
        finally:
            self.ended = time.time()
            self.state = state

    def poll(self) -> str:
        """The state now; a thread that died without ending its job counts as failed."""
        if self.state == "running" and not self.thread.is_alive():
            self._end("failed", error="Training ended without a result (see the server log).")
        return self.state

    def request_stop(self, keep_best: bool = False) -> None:
        """The in-memory flag, plus the stop file."""
        super().request_stop(keep_best)
        self.monitor.request_stop(keep_best)

    def progress(self) -> TrainingProgress:
        """The monitor's snapshot, or its status file when that is newer (written by a forked GPU worker)."""
        if self.final_progress is not None and self.state != "running":
            return dict(self.final_progress)
        snap = self.monitor.snapshot()
        try:
            shared = json.loads(self.status_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):  # not written yet, or the job's folder is gone
            return snap
        return shared if (shared.get("elapsed") or 0) > (snap.get("elapsed") or 0) else snap


def _read_lines(path: Path) -> list[str]:
    try:
        return path.read_text(encoding="utf-8", errors="replace").strip().splitlines()
    except OSError:
        return []


def _with_kept_quick(error: str, progress: dict[str, Any] | None) -> str:
    """The error, plus where the quick model is when it outlived the job (a kill, a crash): a usable run."""
    quick = (progress or {}).get("quick") or {}
    path = quick.get("path")
    if not quick.get("run") or quick.get("removed") or not path or not Path(path).is_dir() or "quick model" in error:
        return error
    accuracy = quick.get("accuracy") or 0.0
    return f"{error} The quick model (validation accuracy {accuracy:.3f}) is kept as run {quick['run']!r}."


def _killed_message(signum: int) -> str:
    try:
        name = signal.Signals(signum).name
    except ValueError:
        name = f"signal {signum}"
    hint = " (out of memory? try a smaller batch size or max length)" if signum == signal.SIGKILL else ""
    return f"The training process was killed by {name}{hint}: nothing was saved; start it again."


def lower_priority(pid: int, niceness: int = config.JOB_NICENESS) -> None:
    """Let a training job yield the CPU to the app's answers (before it starts its threads, which inherit it)."""
    if niceness > 0 and hasattr(os, "setpriority"):
        try:
            os.setpriority(os.PRIO_PROCESS, pid, niceness)
        except OSError:  # already gone, or not allowed here
            pass


def env_with_threads(threads: int) -> dict[str, str]:
    """This process's environment for a job: unbuffered output, `threads` intra-op threads."""
    return {**os.environ, "PYTHONUNBUFFERED": "1", "OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads)}
