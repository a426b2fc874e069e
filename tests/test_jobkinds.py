"""The two job kinds: a process that ignores SIGTERM is killed; a thread job always ends, whatever raises."""

from __future__ import annotations

import json
import sys
import threading
import time
import typing

import pytest

from bertdemo import config
from bertdemo.jobs import runner as job_runner
from bertdemo.jobs.kinds import ProcessJob
from bertdemo.jobs.runner import JobRunner, TrainRequest
from bertdemo.runs import tempfiles
from bertdemo.runs.records import JobStatus
from tests.conftest import tiny_rows
from tests.helpers import write_csv

IGNORES_SIGTERM = (
    "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); print('ready', flush=True); time.sleep(600)"
)


@pytest.fixture
def small_csv(tmp_path):
    return write_csv(tmp_path / "reviews.csv", tiny_rows())


def wait_for(predicate, timeout: float, what: str):
    deadline = time.time() + timeout
    while not predicate():
        assert time.time() < deadline, f"{what}: not within {timeout} s"
        time.sleep(0.1)


def test_a_process_that_ignores_sigterm_is_killed(tmp_path) -> None:
    workdir = tempfiles.new_temp_dir(config.JOB_DIR_PREFIX)
    job = ProcessJob(
        id="stubborn",
        owner="a",
        request=TrainRequest(csv_path="x.csv", name="stubborn"),
        workdir=workdir,
        root=tmp_path,
        command=[sys.executable, "-c", IGNORES_SIGTERM],
        stop_grace_s=0,
        kill_grace_s=0.5,
    )
    job.launch()
    try:
        wait_for(lambda: (workdir / "stdout.txt").read_text().strip() == "ready", 60, "the process never started")
        job.request_stop()
        wait_for(lambda: job.poll() != "running", 30, "a job that ignores SIGTERM was never killed")
        assert job.process.returncode == -9
        assert job.state == "stopped" and "nothing was saved" in job.error
        assert not workdir.exists()
    finally:
        if job.process.poll() is None:
            job.process.kill()
            job.process.wait()


def refusing_gpu(fn):
    """What spaces.GPU does when the quota is spent: the call raises before the function runs."""

    def wrapped():
        raise RuntimeError("ZeroGPU quota exceeded")

    return wrapped


def test_a_thread_job_whose_gpu_wrapper_raises_fails_and_frees_the_runner(models_root, small_csv) -> None:
    runner = JobRunner(root=models_root, mode="thread", gpu_wrapper=refusing_gpu)
    job = runner.start(TrainRequest(csv_path=str(small_csv), name="no-gpu"), owner="a")
    final = runner.wait(job, timeout=30)
    assert final["state"] == "failed" and "ZeroGPU quota exceeded" in final["error"], final
    assert runner.active_job() is None
    assert not runner._jobs[job].workdir.exists()
    # The next Train is not refused as busy.
    job2 = runner.start(TrainRequest(csv_path=str(small_csv), name="no-gpu-2"), owner="a")
    assert runner.wait(job2, timeout=30)["state"] == "failed"


def test_a_thread_job_is_off_the_disk_before_it_says_it_ended(models_root, small_csv, monkeypatch) -> None:
    import shutil

    from bertdemo.jobs import kinds

    real_rmtree = shutil.rmtree

    def slow_rmtree(path, *args, **kwargs):  # a slow disk: the window between "ended" and "removed" opens wide
        time.sleep(0.5)
        real_rmtree(path, *args, **kwargs)

    monkeypatch.setattr(kinds.shutil, "rmtree", slow_rmtree)
    runner = JobRunner(root=models_root, mode="thread", gpu_wrapper=refusing_gpu)
    job = runner.start(TrainRequest(csv_path=str(small_csv), name="no-gpu"), owner="a")
    assert runner.wait(job, timeout=30)["state"] == "failed"
    assert not runner._jobs[job].workdir.exists()  # the user's data went before the job said it ended


def test_a_thread_job_whose_failure_report_raises_still_ends(models_root, small_csv, monkeypatch) -> None:
    from bertdemo.training.monitor import TrainingMonitor

    def broken_fail(self, message, phase="failed"):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(TrainingMonitor, "fail", broken_fail)
    runner = JobRunner(root=models_root, mode="thread")
    job = runner.start(TrainRequest(csv_path=str(small_csv), name="bad", model="/no/such/model"), owner="a")
    final = runner.wait(job, timeout=60)
    assert final["state"] == "failed" and "not a folder" in final["error"], final
    assert runner.active_job() is None


def test_thread_mode_trains_and_saves_the_same_run_json(models_root, tiny_model_dir, small_csv, tmp_path) -> None:
    """What ZeroGPU Spaces run: the same pipeline as the subprocess, so run.json has the data summary too."""
    runner = JobRunner(root=models_root, mode="thread", gpu_wrapper=lambda fn: fn)
    request = TrainRequest(csv_path=str(small_csv), name="in-thread", model=str(tiny_model_dir), epochs=1)
    job = runner.start(request, owner="a")
    final = runner.wait(job, timeout=300)
    assert final["state"] == "done", final
    assert len(final["history"]) == 1 and final["phase"] == "done"
    assert set(final) == set(typing.get_type_hints(JobStatus))  # the declared record, nothing more or less
    info = json.loads((models_root / "in-thread" / "run.json").read_text())
    assert info["data"]["rows"] == len(tiny_rows()) and info["data"]["text_column"] == "text"
    assert info["params"]["epochs"] == 1
    assert not runner._jobs[job].workdir.exists()


def test_stop_after_the_job_folder_is_gone(models_root, small_csv) -> None:
    """A job that just ended removes its folder; a stop arriving then must not fail on the missing folder."""
    gate = threading.Event()

    def waits(fn):
        return lambda: gate.wait(30)  # holds the job "running" while the test removes its folder

    runner = JobRunner(root=models_root, mode="thread", gpu_wrapper=waits)
    job = runner.start(TrainRequest(csv_path=str(small_csv), name="gone"), owner="a")
    import shutil

    shutil.rmtree(runner._jobs[job].workdir)
    try:
        assert runner.stop(job, owner="a")["state"] == "running"
    finally:
        gate.set()
    assert runner.wait(job, timeout=30)["state"] in ("stopped", "failed")


def test_start_copies_the_upload_without_holding_the_lock(models_root, small_csv, monkeypatch) -> None:
    """Copying a 50 MB upload must not hold up every other session's status poll."""
    copying, release = threading.Event(), threading.Event()
    real_copy = job_runner.shutil.copyfile

    def slow_copy(src, dst, *args, **kwargs):
        copying.set()
        release.wait(30)
        return real_copy(src, dst, *args, **kwargs)

    monkeypatch.setattr(job_runner.shutil, "copyfile", slow_copy)
    runner = JobRunner(root=models_root, mode="thread", gpu_wrapper=refusing_gpu)
    starter = threading.Thread(
        target=lambda: runner.start(TrainRequest(csv_path=str(small_csv), name="big"), owner="a"), daemon=True
    )
    starter.start()
    try:
        assert copying.wait(30)
        poller = threading.Thread(target=lambda: runner.active_job("b"), daemon=True)
        poller.start()
        poller.join(2)
        assert not poller.is_alive(), "a status poll waited for another session's upload copy"
    finally:
        release.set()
        starter.join(30)


def test_latest_job_reads_the_jobs_under_the_lock(models_root) -> None:
    runner = JobRunner(root=models_root)
    done = threading.Event()
    with runner._lock:  # a start in another thread is adding its job
        reader = threading.Thread(target=lambda: (runner.latest_job("a"), done.set()), daemon=True)
        reader.start()
        assert not done.wait(0.5), "latest_job read _jobs while a start held the lock"
    assert done.wait(5)
