"""Training jobs for the app: one at a time per machine, run off the request thread, pollable, stoppable.

By default a job is `python -m bertdemo train --request FILE` in a subprocess (jobs.kinds.ProcessJob): the
server keeps answering predictions, a crash or kill cannot take the server down, and the run appears in
models/ only when the CLI's atomic rename happens. On ZeroGPU Spaces the GPU is only granted in-process,
so there a job runs the same pipeline in a thread (jobs.kinds.ThreadJob). JobRunner only keeps the
one-at-a-time rule and the per-owner bookkeeping.
"""

from __future__ import annotations

import logging
import os
import shutil
import sys
import threading
import time
import uuid
from dataclasses import replace
from pathlib import Path

from bertdemo import config
from bertdemo.errors import BertDemoError, BusyError, RunNotFound
from bertdemo.hardware import job_threads
from bertdemo.jobs.kinds import Job, ProcessJob, ThreadJob, env_with_threads
from bertdemo.runs import access, store, tempfiles
from bertdemo.runs.records import JobStatus
from bertdemo.training import coreshare
from bertdemo.training.pipeline import TrainRequest

__all__ = ["Job", "JobRunner", "TrainRequest", "job_threads"]

log = logging.getLogger(__name__)

# Read when a job starts (tests shorten them here).
STOP_GRACE_S = config.JOB_STOP_GRACE_S
KILL_GRACE_S = config.JOB_KILL_GRACE_S


class JobRunner:
    """Starts, polls and stops training jobs; refuses a second one while one runs."""

    def __init__(
        self,
        root: Path | None = None,
        mode: str = "subprocess",
        gpu_wrapper=None,
        time_limit_s: float = config.JOB_TIME_LIMIT_S,
    ):
        self.root = Path(root) if root else None
        self.time_limit_s = time_limit_s  # a visitor's job stops once it would run longer (0: no limit)
        self.mode = mode
        self._gpu_wrapper = gpu_wrapper  # spaces.GPU(...) on ZeroGPU, else None
        self._lock = threading.Lock()
        self._jobs: dict[str, Job] = {}
        self._active: str | None = None

    # --- public API -------------------------------------------------------------
    def start(self, request: TrainRequest, owner: str, drop_upload: bool = False) -> str:
        """Start a job and return its id, or raise BusyError/BertDemoError at once.

        drop_upload: delete the uploaded file (request.csv_path) once the job ends; the job trains on its own copy.
        """
        name = request.name or store.default_run_name(request.model)
        name = store.check_new_name(name, self.root, owner=access.owner_key(owner))  # among this owner's runs
        with self._lock:
            self._refuse_if_busy(owner)  # fail fast, before copying anything
        workdir = tempfiles.new_temp_dir(config.JOB_DIR_PREFIX)
        try:
            # A private copy (two sessions' uploads never overwrite each other), made outside the lock:
            # a 50 MB upload must not hold up every status poll.
            shutil.copyfile(request.csv_path, workdir / "data.csv")
        except OSError as exc:
            shutil.rmtree(workdir, ignore_errors=True)
            raise BertDemoError(f"Could not read the uploaded file: {exc.strerror or exc}.") from exc
        request.name = name
        job = self._new_job(request, owner, workdir)
        with self._lock:
            try:
                self._refuse_if_busy(owner)  # another start may have won while we copied
                job.launch()
            except BaseException:
                shutil.rmtree(workdir, ignore_errors=True)
                raise
            self._jobs[job.id] = job
            self._active = job.id
        upload = Path(request.csv_path) if drop_upload else None
        threading.Thread(target=self._watch, args=(job, upload), name=f"watch-{job.id}", daemon=True).start()
        log.info("job %s started: %s", job.id, name)
        return job.id

    def status(self, job_id: str, owner: str | None = None) -> JobStatus:
        """Progress, history and outcome of a job (JSON-able)."""
        job = self._get(job_id, owner)
        state = job.poll()
        snap = job.progress()
        status = JobStatus(
            **snap,
            job_id=job.id,
            state=state,
            name=job.request.name,
            result=job.result,
            error=job.error,
            started=job.started,
            ended=job.ended,
        )
        if state == "stopped" and job.stop_reason:
            status["error"] = job.stop_reason
        if state in ("failed", "stopped") and status["error"]:
            status["message"] = status["error"]
        return status

    def stop(self, job_id: str, owner: str | None = None, keep_best: bool = False) -> JobStatus:
        """Ask a job to stop (cooperative flag); it ends at the next step and saves nothing (or its best epoch)."""
        job = self._get(job_id, owner)
        if job.poll() == "running":
            job.request_stop(keep_best)
        return self.status(job_id, owner)

    def active_job(self, owner: str | None = None) -> str | None:
        """The running job's id (only if it is owner's, when an owner is given)."""
        with self._lock:
            job = self._jobs.get(self._active) if self._active else None
        if job is None or job.poll() != "running":
            return None
        return job.id if owner is None or job.owner == owner else None

    def request_of(self, job_id: str, owner: str | None = None) -> TrainRequest:
        """The settings a job was started with (to show them again after a page reload)."""
        return self._get(job_id, owner).request

    def latest_job(self, owner: str) -> str | None:
        """The newest job of this owner (to show again after a page reload)."""
        with self._lock:  # a start in another thread adds to _jobs meanwhile
            mine = [j for j in self._jobs.values() if j.owner == owner]
        return max(mine, key=lambda j: j.started).id if mine else None

    def wait(self, job_id: str, timeout: float | None = None) -> JobStatus:
        """Block until a job ends (for the CLI-like API and tests)."""
        deadline = None if timeout is None else time.time() + timeout
        while self._jobs[job_id].poll() == "running":
            if deadline is not None and time.time() > deadline:
                raise TimeoutError(f"job {job_id} still running after {timeout} s")
            time.sleep(0.2)
        return self.status(job_id)

    # --- internals ----------------------------------------------------------------
    def _watch(self, job: Job, upload: Path | None) -> None:
        """Stop the job once it would run past the time limit (its ETA is known after a few steps), so one visitor
        cannot hold the only training slot for hours; polling also frees the slot when nobody watches the job.
        Once it ended, the upload it was started from is deleted (`upload`), not left in gradio's cache for a day."""
        try:
            while job.poll() == "running":
                reason = over_time_limit(job.progress(), self.time_limit_s)
                if reason and job.stop_reason is None:
                    log.info("job %s: %s", job.id, reason)
                    job.stop_reason = reason
                    job.request_stop()
                time.sleep(config.JOB_LIMIT_CHECK_S)
        finally:
            if upload is not None:
                _drop_upload(upload, job.started)

    def _get(self, job_id: str, owner: str | None) -> Job:
        job = self._jobs.get(job_id or "")
        if job is None or (owner is not None and job.owner != owner):
            raise RunNotFound(f"No training job {job_id!r} for this session: start one with Train.")
        return job

    def _refuse_if_busy(self, owner: str) -> None:
        """Raise BusyError while a job runs (call with the lock held)."""
        active = self._jobs.get(self._active) if self._active else None
        if active is None or active.poll() != "running":
            return
        snap = active.progress()
        pct = f"{100 * snap['step'] / snap['total_steps']:.0f}% done" if snap.get("total_steps") else "starting"
        # Another visitor's run name is theirs: it may say what they work on, so only the caller's own is named.
        who = f"your training '{active.request.name}'" if active.owner == owner else "another user's training"
        raise BusyError(
            f"Busy: {who} is running ({pct}); one training runs at a time here: try again when it finishes."
        )

    def _new_job(self, request: TrainRequest, owner: str, workdir: Path) -> Job:
        common = dict(id=uuid.uuid4().hex[:12], owner=owner, request=request, workdir=workdir, root=self.root)
        if self.mode == "thread":
            return ThreadJob(**common, gpu_wrapper=self._gpu_wrapper)
        job_request = replace(request, csv_path=str(workdir / "data.csv"))
        job_request.write(workdir / config.JOB_REQUEST_FILE)
        cmd = [sys.executable, "-m", "bertdemo"]
        if self.root:
            cmd += ["--models-dir", str(self.root)]
        cmd += ["train", "--request", str(workdir / config.JOB_REQUEST_FILE), "--json"]
        cmd += ["--status-file", str(workdir / "status.json"), "--stop-file", str(workdir / "STOP")]
        cmd += ["--parent-pid", str(os.getpid())]  # the job stops and cleans up if this server dies
        owner_key = access.owner_key(owner)
        if owner_key:  # the run is private to whoever started the job (a hash, never the browser's id itself)
            cmd += ["--owner", owner_key]
        return ProcessJob(
            **common,
            command=cmd,
            # Fewer threads than cores: the app keeps a core to answer predictions (see config.JOB_TORCH_THREADS),
            # and the job takes it back while nobody predicts (coreshare: the app's serving mark).
            env=visitor_env({**env_with_threads(job_threads()), **coreshare.job_env()}),
            cwd=str(config.PROJECT_ROOT),
            stop_grace_s=STOP_GRACE_S,
            kill_grace_s=KILL_GRACE_S,
        )


def over_time_limit(progress: dict, limit_s: float) -> str | None:
    """The one-line reason to stop a job that has run, or by its ETA will run, longer than limit_s; else None."""
    if not limit_s or limit_s <= 0:
        return None
    elapsed = float(progress.get("elapsed") or 0.0)
    eta = progress.get("eta")
    timed = int(progress.get("step") or 0) >= config.JOB_LIMIT_MIN_STEPS and eta is not None
    expected = elapsed + float(eta) if timed else elapsed
    if expected <= limit_s:
        return None
    return (
        f"Stopped: this training would take about {_minutes(expected)}, over the {_minutes(limit_s)} limit for one "
        "training here: choose fewer epochs, fewer rows (max_rows) or a shorter max_length (fewer tokens)."
    )


def _minutes(seconds: float) -> str:
    return f"{seconds / 60:.0f} min" if seconds >= 120 else f"{seconds:.0f} s"


def _drop_upload(upload: Path, job_started: float) -> None:
    """Delete a job's upload, unless it was uploaded again since the job started.

    gradio files uploads by content (<sha256>/<name>): a caller who uploads the same bytes meanwhile gets the
    same path, rewritten then, and is about to train from it.
    """
    try:
        if upload.stat().st_mtime <= job_started:
            upload.unlink(missing_ok=True)
    except OSError:  # already gone
        pass


def visitor_env(env: dict[str, str]) -> dict[str, str]:
    """A visitor's job environment: without the operator's Hub token (their private and gated repos stay theirs)
    unless config.VISITOR_HUB_TOKEN allows it; HF_HUB_DISABLE_IMPLICIT_TOKEN also leaves a saved login unused."""
    if config.VISITOR_HUB_TOKEN:
        return env
    kept = {k: v for k, v in env.items() if k not in ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "HF_TOKEN_PATH")}
    return {**kept, "HF_HUB_DISABLE_IMPLICIT_TOKEN": "1"}
