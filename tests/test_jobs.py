"""The app's job runner: a real training subprocess, busy refusal, stop, per-owner isolation."""

from __future__ import annotations

import json
import time

import pytest

from bertdemo import hardware
from bertdemo.errors import BusyError, RunNotFound
from bertdemo.jobs.runner import JobRunner, TrainRequest
from tests.helpers import make_tiny_model_dir, write_csv
from tests.test_cli import ROWS


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    base = tmp_path_factory.mktemp("jobs")
    return write_csv(base / "reviews.csv", ROWS * 4), str(make_tiny_model_dir(base / "tiny"))


def test_job_trains_and_reports(tiny, models_root) -> None:
    csv_path, model = tiny
    runner = JobRunner(root=models_root)
    job = runner.start(TrainRequest(csv_path=str(csv_path), name="job-run", model=model, epochs=2), owner="alice")
    with pytest.raises(BusyError, match="^Busy: another user's training is running") as busy:
        runner.start(TrainRequest(csv_path=str(csv_path), name="other", model=model), owner="bob")
    assert "job-run" not in str(busy.value)  # alice's run name is hers: bob is not told it
    with pytest.raises(RunNotFound):
        runner.status(job, owner="bob")  # bob never sees alice's job
    assert runner.active_job("alice") == job and runner.active_job("bob") is None
    final = runner.wait(job, timeout=240)
    assert final["state"] == "done", final
    assert final["result"]["name"] == "job-run" and len(final["history"]) == 2
    assert final["started"] < final["ended"] <= time.time()  # the Done line's "in all" clock
    assert (models_root / "job-run" / "run.json").is_file()
    # Nobody predicted meanwhile: every step had every core (on one CPU there is nothing to share).
    share = json.loads((models_root / "job-run" / "run.json").read_text())["device"].get("core_share")
    if hardware.usable_cpus() > 1:
        assert share["steps"] >= 2 and share["steps_with_all_cores"] == share["steps"], share
        assert share["threads_while_quiet"] == hardware.usable_cpus()
    else:
        assert share is None
    assert runner.latest_job("alice") == job
    # The job folder (the user's CSV copy, logs, status file) is gone; the progress stays in memory.
    assert not runner._jobs[job].workdir.exists()
    again = runner.status(job, owner="alice")
    assert again["state"] == "done" and again["history"] == final["history"]


def test_stop_leaves_nothing(tiny, models_root) -> None:
    csv_path, model = tiny
    runner = JobRunner(root=models_root)
    job = runner.start(
        TrainRequest(csv_path=str(csv_path), name="to-stop", model=model, epochs=50, batch_size=1), owner="alice"
    )
    import time

    deadline = time.time() + 120
    while runner.status(job)["step"] < 3 and time.time() < deadline:
        time.sleep(0.3)
    runner.stop(job, owner="alice")
    final = runner.wait(job, timeout=120)
    assert final["state"] == "stopped", final
    assert "nothing was saved" in final["error"]
    assert list(models_root.iterdir()) == []
    assert not runner._jobs[job].workdir.exists()
    # The next training starts normally.
    job2 = runner.start(TrainRequest(csv_path=str(csv_path), name="after-stop", model=model, epochs=1), "alice")
    assert runner.wait(job2, timeout=240)["state"] == "done"


def test_bad_model_fails_with_one_line(tiny, models_root) -> None:
    csv_path, _ = tiny
    runner = JobRunner(root=models_root)
    job = runner.start(TrainRequest(csv_path=str(csv_path), name="bad", model="/no/such/model"), owner="a")
    final = runner.wait(job, timeout=120)
    assert final["state"] == "failed" and "not a folder" in final["error"] and "\n" not in final["error"]
