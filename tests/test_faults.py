"""Faults: a killed training process, a killed app server, a full disk. No half run ever shows up in models/.

The cooperative stop is in tests/test_jobs.py; here are the ways a job ends without its own consent.
"""

from __future__ import annotations

import html
import os
import resource
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from gradio_client import handle_file

from bench.appprocess import start_app
from bertdemo import config
from bertdemo.inference.predictors import load_predictor
from bertdemo.jobs import runner as job_runner
from bertdemo.jobs.runner import JobRunner, TrainRequest
from bertdemo.runs import store
from bertdemo.ui import views
from tests.conftest import REPO, api_client, free_port, tiny_rows
from tests.helpers import make_tiny_run, write_csv

pytestmark = pytest.mark.filterwarnings("ignore:'HTTP_422_UNPROCESSABLE_ENTITY' is deprecated")

JOB_TIMEOUT_S = 300  # a training subprocess imports torch first: slow on a busy 2-core machine
APP_START_S = 180
FSIZE_LIMIT = 1_000_000  # bytes: the tiny model's weights (~4 MB) cannot be written, status files (~2 kB) can


# --- helpers -----------------------------------------------------------------------------------------------------


def staging_dirs(root: Path) -> list[Path]:
    return [p for p in root.iterdir() if p.name.startswith(config.TMP_PREFIX)]


def staging_pid(path: Path) -> int:
    """The pid in '.tmp-<pid>-xxxx' (the process that trains into it)."""
    return int(path.name[len(config.TMP_PREFIX) :].split("-", 1)[0])


def alive(pid: int) -> bool:
    """True while pid runs (a zombie waiting to be reaped counts as gone)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False


def wait_until(predicate, timeout: float, what: str, every: float = 0.3):
    deadline = time.time() + timeout
    while True:
        value = predicate()
        if value:
            return value
        assert time.time() < deadline, f"{what}: not within {timeout} s"
        time.sleep(every)


def long_request(csv_path: Path, model: Path, name: str) -> TrainRequest:
    """A job that would train for many minutes: it is always still running when the test strikes."""
    return TrainRequest(csv_path=str(csv_path), name=name, model=str(model), epochs=100, batch_size=1)


def wait_training(root: Path, status) -> Path:
    """Wait until the job is past step 1 (so its staging folder exists); return that folder."""

    def ready():
        snap = status()
        assert snap.get("state", "running") == "running", snap
        return snap["step"] >= 1 and staging_dirs(root)

    (staging,) = wait_until(ready, JOB_TIMEOUT_S, "training never reached step 1")
    return staging


def assert_predicts(name: str, root: Path) -> None:
    pred = load_predictor(name, "pytorch", root).predict(["a wonderful film", "dull and far too long"])
    assert len(pred.labels) == 2 and set(pred.labels) <= {"negative", "positive"}


@pytest.fixture
def small_csv(tmp_path) -> Path:
    return write_csv(tmp_path / "reviews.csv", tiny_rows())


# --- a killed training process ---------------------------------------------------------------------------------


@pytest.mark.slow
def test_killed_and_terminated_jobs_leave_nothing(models_root, tiny_model_dir, small_csv, monkeypatch) -> None:
    make_tiny_run(models_root, "earlier")
    runner = JobRunner(root=models_root)
    job = runner.start(long_request(small_csv, tiny_model_dir, "killed"), owner="alice")
    staging = wait_training(models_root, lambda: runner.status(job))
    os.killpg(staging_pid(staging), signal.SIGKILL)  # the job leads its own session

    final = runner.wait(job, timeout=60)
    assert final["state"] == "failed", final
    assert "killed by SIGKILL" in final["error"] and "\n" not in final["error"]
    assert "is kept as run 'killed-quick'" in final["error"]  # what the visitor still has
    # No partial run, and the dead job's staging folder is swept as soon as the runner notices. The quick model,
    # saved complete before fine-tuning began, stays: the visitor keeps a usable model.
    assert sorted(p.name for p in models_root.iterdir()) == ["earlier", "killed-quick"]
    assert_predicts("earlier", models_root)
    assert_predicts("killed-quick", models_root)

    # The runner is not stuck on the dead job: the next one starts. Its Stop is not honoured in time
    # (grace 0), so it ends in SIGTERM, and the CLI still removes its staging folder on the way out.
    monkeypatch.setattr(job_runner, "STOP_GRACE_S", 0)
    job2 = runner.start(long_request(small_csv, tiny_model_dir, "terminated"), owner="alice")
    wait_training(models_root, lambda: runner.status(job2))
    runner.stop(job2, owner="alice")
    final = runner.wait(job2, timeout=120)
    assert final["state"] == "stopped", final
    assert "nothing was saved" in final["error"] and "quick model" not in final["error"]
    # "Stop" (discard) takes the quick model with it, even when the stop had to be forced.
    assert sorted(p.name for p in models_root.iterdir()) == ["earlier", "killed-quick"]
    assert_predicts("earlier", models_root)


def test_orphaned_job_stops_when_its_app_dies(models_root, tiny_model_dir, small_csv) -> None:
    """SIGKILL of the app's process group misses the job (its own session): the job notices and cleans up."""
    parent_code = textwrap.dedent(f"""
        import sys, time
        from bertdemo.jobs.runner import JobRunner, TrainRequest
        runner = JobRunner(root={str(models_root)!r})
        runner.start(TrainRequest(csv_path={str(small_csv)!r}, name="orphan", model={str(tiny_model_dir)!r},
                                  epochs=100, batch_size=1), owner="a")
        print("started", flush=True)
        time.sleep(3600)
    """)
    parent = subprocess.Popen(
        [sys.executable, "-c", parent_code], cwd=REPO, stdout=subprocess.PIPE, text=True, start_new_session=True
    )
    try:
        assert parent.stdout.readline().strip() == "started"
        status_of = lambda: {"step": 1}  # noqa: E731 - the parent owns the runner; its staging folder shows progress
        staging = wait_training(models_root, status_of)
        child = staging_pid(staging)
        time.sleep(1)  # let training run a little
        os.killpg(parent.pid, signal.SIGKILL)
        parent.wait(timeout=30)
        wait_until(lambda: not alive(child), 120, "the orphaned training process kept running")
    finally:
        if parent.poll() is None:
            os.killpg(parent.pid, signal.SIGKILL)
            parent.wait(timeout=30)
    assert staging_dirs(models_root) == [], "the job removes its own staging folder on the way out"
    # What is left is the complete quick model, saved before fine-tuning began; it predicts.
    assert [p.name for p in models_root.iterdir()] == ["orphan-quick"]
    assert_predicts("orphan-quick", models_root)


# --- a killed app server, restarted ----------------------------------------------------------------------------


def kill_group(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)


@pytest.mark.slow
def test_app_killed_mid_training_then_restarted(tmp_path, tiny_model_dir, small_csv) -> None:
    """The whole machine's processes die at once (a Space restart): the next start-up sweeps the staging."""
    models = tmp_path / "models"
    models.mkdir()
    make_tiny_run(models, "earlier")
    port = free_port()
    allowed = {config.BASE_MODELS_ENV: str(tiny_model_dir)}  # the operator lets visitors train from it
    app = start_app(models, port, tmp_path / "app.log", env_extra=allowed, timeout=APP_START_S)
    child = None
    try:
        client = api_client(f"http://127.0.0.1:{port}/")
        job = client.predict(
            handle_file(str(small_csv)),
            {"model": str(tiny_model_dir), "epochs": 100, "batch_size": 1, "name": "doomed"},
            api_name="/train",
        )
        staging = wait_training(models, lambda: client.predict(job["job_id"], api_name="/status"))
        child = staging_pid(staging)
        # The job leads its own session: a machine restart kills it too. SIGKILLed first: a job that outlives its
        # app by a moment sees itself orphaned and cleans up (test_orphaned_job_stops_when_its_app_dies), which a
        # restart never allows.
        os.killpg(child, signal.SIGKILL)
        kill_group(app)
        wait_until(lambda: not alive(child), 30, "SIGKILLed training still alive")
        assert staging.exists(), "a SIGKILLed job cannot clean up: the restart has to"

        app = start_app(models, port, tmp_path / "app.log", timeout=APP_START_S)
        assert staging_dirs(models) == [], "stale staging is swept at start-up"
        client = api_client(f"http://127.0.0.1:{port}/")
        assert [r["name"] for r in client.predict(api_name="/models")] == ["earlier"]
        answer = client.predict("earlier", "a wonderful film", api_name="/predict")
        assert answer["label"] in {"negative", "positive"}
        # The quick model was complete before fine-tuning began: it survives the restart (its owner's run).
        assert sorted(p.name for p in models.iterdir()) == ["doomed-quick", "earlier"]
        assert_predicts("doomed-quick", models)
    finally:
        kill_group(app)
        if child and alive(child):
            os.killpg(child, signal.SIGKILL)


# --- a disk that cannot take the model ---------------------------------------------------------------------------


def limit_file_size() -> None:
    """preexec_fn: writes beyond FSIZE_LIMIT fail with EFBIG (Python ignores SIGXFSZ, so no signal kills us)."""
    resource.setrlimit(resource.RLIMIT_FSIZE, (FSIZE_LIMIT, resource.getrlimit(resource.RLIMIT_FSIZE)[1]))


def test_disk_write_error_in_the_cli(models_root, tiny_model_dir, small_csv) -> None:
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "bertdemo",
            "--models-dir",
            str(models_root),
            "train",
            str(small_csv),
            "--model",
            str(tiny_model_dir),
            "--epochs",
            "1",
            "--name",
            "disk-full",
            "--json",
        ],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=JOB_TIMEOUT_S,
        preexec_fn=limit_file_size,
    )
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: Could not write the model"), proc.stderr
    assert "File too large" in lines[0] and "Traceback" not in proc.stderr
    assert list(models_root.iterdir()) == []


@pytest.mark.slow
def test_disk_write_error_through_the_api(app_server, tmp_path) -> None:
    """The job fails with one line in /status (and the page), nothing lands in models/, the app keeps serving."""
    root = app_server.root
    make_tiny_run(root, "kept")
    client = api_client(app_server.url)
    csv = handle_file(str(app_server.small_csv))
    settings = {"model": str(app_server.tiny), "epochs": 1, "name": "disk-full"}
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    # The limit is inherited by the training subprocess that /train forks; our own writes meanwhile are tiny.
    resource.setrlimit(resource.RLIMIT_FSIZE, (FSIZE_LIMIT, hard))
    try:
        job = client.predict(csv, settings, api_name="/train")
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))

    def ended():
        status = client.predict(job["job_id"], api_name="/status")
        return status if status["state"] != "running" else None

    final = wait_until(ended, JOB_TIMEOUT_S, "the job never ended", every=0.5)
    assert final["state"] == "failed", final
    message = final["error"]
    assert message.startswith("Could not write the model") and "File too large" in message, message
    assert "\n" not in message and "Traceback" not in message
    assert final["message"] == message
    assert html.escape(message) in views.progress_html(final)  # what the Train tab shows
    assert sorted(p.name for p in root.iterdir()) == ["kept"]
    # The app keeps serving, and the next training is not refused as busy.
    assert [r["name"] for r in client.predict(api_name="/models")] == ["kept"]
    assert client.predict("kept", "a wonderful film", api_name="/predict")["label"] in {"negative", "positive"}
    assert app_server.runner.active_job() is None
    store.delete_run("kept", root)


def test_sweep_removes_the_staging_of_a_zombie(models_root) -> None:
    """A killed job nobody reaped yet still answers os.kill(pid, 0); its staging is stale all the same."""
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    wait_until(lambda: not alive(proc.pid), 60, "the child never exited")  # a zombie: we do not wait() yet
    try:
        os.kill(proc.pid, 0)  # still "there" for os.kill
        stale = models_root / f"{config.TMP_PREFIX}{proc.pid}-abc"
        stale.mkdir()
        assert store.sweep_staging(models_root) == [stale.name]
    finally:
        proc.wait()
