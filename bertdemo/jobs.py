"""Training jobs for the app: one at a time per machine, run off the request thread, pollable, stoppable.

By default a job is `python -m bertdemo train ...` in a subprocess: the server keeps
answering predictions, a crash or kill cannot take the server down, and the run
appears in models/ only when the CLI's atomic rename happens. On ZeroGPU Spaces the
GPU is only granted in-process, so there a job runs train_run in a thread instead.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bertdemo import access, config, store, tempfiles
from bertdemo.errors import BertDemoError, BusyError, RunNotFound, TrainingError
from bertdemo.monitor import TrainingMonitor

log = logging.getLogger(__name__)

STOP_GRACE_S = 60  # after a stop request, the step in flight may take this long before we terminate


@dataclass
class TrainRequest:
    """What the UI/API asks for; option names match the CLI's flags."""

    csv_path: str
    name: str
    model: str = config.DEFAULT_MODEL
    text_column: str | None = None
    label_column: str | None = None
    epochs: int = config.DEFAULT_EPOCHS
    learning_rate: float | None = None
    batch_size: int | None = None
    max_length: int = config.DEFAULT_MAX_LENGTH
    val_fraction: float = config.DEFAULT_VAL_FRACTION
    warmup_ratio: float = config.DEFAULT_WARMUP_RATIO
    weight_decay: float = config.DEFAULT_WEIGHT_DECAY
    early_stopping: int = 0
    seed: int = config.DEFAULT_SEED
    max_rows: int = config.DEFAULT_MAX_ROWS

    def train_config(self):
        """The TrainConfig these options mean (validated by the caller)."""
        from bertdemo.hyperparameters import TrainConfig

        return TrainConfig.from_options(self)

    def cli_args(self, csv_path: Path) -> list[str]:
        """The equivalent `python -m bertdemo train` arguments."""
        args = [
            "train",
            str(csv_path),
            "--name",
            self.name,
            "--model",
            self.model,
            "--epochs",
            str(self.epochs),
            "--max-length",
            str(self.max_length),
            "--val-fraction",
            str(self.val_fraction),
            "--warmup-ratio",
            str(self.warmup_ratio),
            "--weight-decay",
            str(self.weight_decay),
            "--early-stopping",
            str(self.early_stopping),
            "--seed",
            str(self.seed),
            "--max-rows",
            str(self.max_rows),
        ]
        for flag, value in (
            ("--text-column", self.text_column),
            ("--label-column", self.label_column),
            ("--lr", self.learning_rate),
            ("--batch-size", self.batch_size),
        ):
            if value not in (None, ""):
                args += [flag, str(value)]
        return args


@dataclass
class Job:
    """One training job and where to find its progress."""

    id: str
    owner: str
    request: TrainRequest
    workdir: Path
    started: float = field(default_factory=time.time)
    process: subprocess.Popen | None = None
    monitor: TrainingMonitor | None = None  # thread mode
    thread: threading.Thread | None = None
    state: str = "running"  # running | done | failed | stopped
    result: dict[str, Any] | None = None
    error: str | None = None
    stop_requested_at: float | None = None
    final_progress: dict[str, Any] | None = None  # kept in memory once the job's folder is removed

    @property
    def status_path(self) -> Path:
        return self.workdir / "status.json"

    @property
    def stop_path(self) -> Path:
        return self.workdir / "STOP"


class JobRunner:
    """Starts, polls and stops training jobs; refuses a second one while one runs."""

    def __init__(self, root: Path | None = None, mode: str = "subprocess", gpu_wrapper=None):
        self.root = Path(root) if root else None
        self.mode = mode
        self._gpu_wrapper = gpu_wrapper  # spaces.GPU(...) on ZeroGPU, else None
        self._lock = threading.Lock()
        # Two sessions polling at once must not both collect a finished job: the first removes its folder.
        self._collect_lock = threading.Lock()
        self._jobs: dict[str, Job] = {}
        self._active: str | None = None

    # --- public API -------------------------------------------------------------
    def start(self, request: TrainRequest, owner: str) -> str:
        """Start a job and return its id, or raise BusyError/BertDemoError at once."""
        name = store.check_new_name(request.name, self.root)  # fail fast, before spawning anything
        with self._lock:
            active = self._jobs.get(self._active) if self._active else None
            if active is not None and self._poll(active) == "running":
                snap = self._progress(active)
                pct = f"{100 * snap['step'] / snap['total_steps']:.0f}% done" if snap.get("total_steps") else "starting"
                who = "your" if active.owner == owner else "another user's"
                raise BusyError(
                    f"Busy: {who} training '{active.request.name}' is running ({pct}); "
                    "one training runs at a time here: try again when it finishes."
                )
            workdir = tempfiles.new_temp_dir(config.JOB_DIR_PREFIX)
            try:
                # A private copy: two sessions' uploads never overwrite each other.
                csv_copy = workdir / "data.csv"
                shutil.copyfile(request.csv_path, csv_copy)
            except OSError as exc:
                shutil.rmtree(workdir, ignore_errors=True)
                raise BertDemoError(f"Could not read the uploaded file: {exc.strerror or exc}.") from exc
            request.name = name
            job = Job(id=uuid.uuid4().hex[:12], owner=owner, request=request, workdir=workdir)
            if self.mode == "thread":
                self._start_thread(job, csv_copy)
            else:
                self._start_process(job, csv_copy)
            self._jobs[job.id] = job
            self._active = job.id
        log.info("job %s started: %s", job.id, name)
        return job.id

    def status(self, job_id: str, owner: str | None = None) -> dict[str, Any]:
        """Progress, history and outcome of a job (JSON-able)."""
        job = self._get(job_id, owner)
        state = self._poll(job)
        snap = self._progress(job)
        snap.update(
            job_id=job.id, state=state, name=job.request.name, result=job.result, error=job.error, started=job.started
        )
        if state in ("failed", "stopped") and job.error:
            snap["message"] = job.error
        return snap

    def stop(self, job_id: str, owner: str | None = None) -> dict[str, Any]:
        """Ask a job to stop (cooperative flag); it ends at the next step and saves nothing."""
        job = self._get(job_id, owner)
        if self._poll(job) == "running":
            job.stop_requested_at = job.stop_requested_at or time.time()
            job.stop_path.touch()
            if job.monitor is not None:
                job.monitor.request_stop()
        return self.status(job_id, owner)

    def active_job(self, owner: str | None = None) -> str | None:
        """The running job's id (only if it is owner's, when an owner is given)."""
        with self._lock:
            job = self._jobs.get(self._active) if self._active else None
        if job is None or self._poll(job) != "running":
            return None
        return job.id if owner is None or job.owner == owner else None

    def request_of(self, job_id: str, owner: str | None = None) -> TrainRequest:
        """The settings a job was started with (to show them again after a page reload)."""
        return self._get(job_id, owner).request

    def latest_job(self, owner: str) -> str | None:
        """The newest job of this owner (to show again after a page reload)."""
        mine = [j for j in self._jobs.values() if j.owner == owner]
        return max(mine, key=lambda j: j.started).id if mine else None

    def wait(self, job_id: str, timeout: float | None = None) -> dict[str, Any]:
        """Block until a job ends (for the CLI-like API and tests)."""
        deadline = None if timeout is None else time.time() + timeout
        while self._poll(self._jobs[job_id]) == "running":
            if deadline is not None and time.time() > deadline:
                raise TimeoutError(f"job {job_id} still running after {timeout} s")
            time.sleep(0.2)
        return self.status(job_id)

    # --- internals ----------------------------------------------------------------
    def _get(self, job_id: str, owner: str | None) -> Job:
        job = self._jobs.get(job_id or "")
        if job is None or (owner is not None and job.owner != owner):
            raise RunNotFound(f"No training job {job_id!r} for this session: start one with Train.")
        return job

    def _start_process(self, job: Job, csv_copy: Path) -> None:
        cmd = [sys.executable, "-m", "bertdemo"]
        if self.root:
            cmd += ["--models-dir", str(self.root)]
        cmd += [
            *job.request.cli_args(csv_copy),
            "--json",
            "--status-file",
            str(job.status_path),
            "--stop-file",
            str(job.stop_path),
            "--parent-pid",  # the job stops and cleans up if this server dies
            str(os.getpid()),
        ]
        owner = access.owner_key(job.owner)
        if owner:  # the run is private to whoever started the job (a hash, never the browser's id itself)
            cmd += ["--owner", owner]
        # Fewer threads than cores: the app keeps a core to answer predictions (see config.JOB_TORCH_THREADS).
        threads = str(job_threads())
        env = {**os.environ, "PYTHONUNBUFFERED": "1", "OMP_NUM_THREADS": threads, "MKL_NUM_THREADS": threads}
        # New session: a Ctrl-C on the server's terminal does not hit the job twice.
        with open(job.workdir / "stdout.txt", "wb") as out, open(job.workdir / "stderr.txt", "wb") as err:
            job.process = subprocess.Popen(
                cmd, stdout=out, stderr=err, env=env, start_new_session=True, cwd=str(config.PROJECT_ROOT)
            )

    def _start_thread(self, job: Job, csv_copy: Path) -> None:
        from bertdemo import data, splits
        from bertdemo.training import train_run

        job.monitor = TrainingMonitor(status_path=job.status_path, stop_path=job.stop_path)
        r = job.request

        def run() -> None:
            try:
                loaded = data.read_labeled_csv(csv_copy, r.text_column, r.label_column, r.max_rows, r.seed)
                split = splits.split_data(loaded, r.val_fraction, r.seed)
                cfg, owner = r.train_config(), access.owner_key(job.owner)
                job.result = train_run(split, cfg, r.name, monitor=job.monitor, root=self.root, owner=owner)
                job.state = "done"
            except BertDemoError as exc:
                job.error = " ".join(str(exc).split())
                job.state = "stopped" if job.monitor.stop_requested else "failed"
                job.monitor.fail(job.error, job.state)
            except Exception as exc:  # noqa: BLE001 - a thread must report, not die silently
                reason = store.write_failure(exc)
                if reason is None:
                    log.exception("training job %s crashed", job.id)
                    job.error = " ".join(f"Training crashed: {type(exc).__name__}: {exc}".split())
                else:
                    job.error = str(_write_error(self.root, reason))
                job.state = "failed"
                job.monitor.fail(job.error)
            finally:
                # The user's data and the job folder are not kept once the job is over; the monitor
                # holds the progress in memory.
                shutil.rmtree(job.workdir, ignore_errors=True)

        target = self._gpu_wrapper(run) if self._gpu_wrapper else run
        job.thread = threading.Thread(target=target, name=f"train-{job.id}", daemon=True)
        job.thread.start()

    def _poll(self, job: Job) -> str:
        if job.state != "running":
            return job.state
        if job.thread is not None:
            return job.state if not job.thread.is_alive() else "running"
        code = job.process.poll()
        if code is None:
            if job.stop_requested_at and time.time() - job.stop_requested_at > STOP_GRACE_S:
                job.process.terminate()  # the CLI's staging cleanup still runs on SIGTERM
            return "running"
        with self._collect_lock:
            if job.state == "running":
                self._collect(job, code)
        return job.state

    def _collect(self, job: Job, code: int) -> None:
        """Read a finished subprocess's outcome, then remove its folder (the user's data is not kept).

        The state is set last: a poll from another session that sees the job ended also sees its progress.
        """
        job.final_progress = self._progress(job)
        state, job.result, job.error = self._read_outcome(job, code)
        shutil.rmtree(job.workdir, ignore_errors=True)
        if state != "done":
            # A killed process cannot remove its staging folder: do it now, not at the next restart.
            store.sweep_staging(self.root)
        job.state = state

    def _read_outcome(self, job: Job, code: int) -> tuple[str, dict[str, Any] | None, str | None]:
        """(state, result, error) from the subprocess's exit status, last stdout line and `error:` lines."""
        out = _read_lines(job.workdir / "stdout.txt")
        err = _read_lines(job.workdir / "stderr.txt")
        if code == 0 and out:
            try:
                return "done", json.loads(out[-1]), None
            except ValueError:
                pass
        error_lines = [line for line in err if line.startswith("error:")]
        if error_lines:
            # The CLI appends "(command line: --flag)" hints; the app's users have no command line.
            error = re.sub(r"\s*\(command line: [^)]*\)$", "", error_lines[-1][len("error:") :].strip())
        elif code < 0:
            error = _killed_message(-code)
        else:
            tail = " | ".join(err[-3:]) or "no output"
            error = " ".join(f"Training process ended with exit status {code}: {tail}".split())
        return ("stopped" if job.stop_requested_at else "failed"), None, error

    def _progress(self, job: Job) -> dict[str, Any]:
        if job.final_progress is not None:
            return dict(job.final_progress)
        if job.monitor is not None:
            return job.monitor.snapshot()
        try:
            return json.loads(job.status_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):  # not written yet: the subprocess is still importing
            snap = TrainingMonitor().snapshot()
            snap.update(epochs=job.request.epochs, elapsed=round(time.time() - job.started, 1))
            return snap


def job_threads() -> int:
    """PyTorch intra-op threads of a training subprocess: config.JOB_TORCH_THREADS, else all CPUs but one (>= 1)."""
    if config.JOB_TORCH_THREADS > 0:
        return config.JOB_TORCH_THREADS
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - macOS, Windows
        cpus = os.cpu_count() or 1
    return max(1, cpus - 1)


def _read_lines(path: Path) -> list[str]:
    try:
        return path.read_text(encoding="utf-8", errors="replace").strip().splitlines()
    except OSError:
        return []


def _killed_message(signum: int) -> str:
    try:
        name = signal.Signals(signum).name
    except ValueError:
        name = f"signal {signum}"
    hint = " (out of memory? try a smaller batch size or max length)" if signum == signal.SIGKILL else ""
    return f"The training process was killed by {name}{hint}: nothing was saved; start it again."


def _write_error(root: Path | None, reason: str) -> TrainingError:
    return TrainingError(
        f"Could not write the model to {store.models_dir(root)} ({reason}): "
        "check free disk space and that the models folder is writable."
    )
