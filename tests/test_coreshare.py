"""A training job's share of the cores: the app's serving mark, and the callback that follows it."""

from __future__ import annotations

import os
import shutil
import time

import pytest
import torch

from bertdemo import config, hardware
from bertdemo.training import coreshare
from bertdemo.training.callbacks import CoreShareCallback


@pytest.fixture
def mark(tmp_path, monkeypatch):
    """A fresh mark in a folder of the test's own, with the throttle's memory cleared."""
    monkeypatch.setattr(coreshare, "_mark", tmp_path / "mark")
    monkeypatch.setattr(coreshare, "_touched", 0.0)
    return tmp_path / "mark"


def test_a_prediction_marks_the_app_as_serving_for_the_quiet_time(mark) -> None:
    assert not coreshare.serving_recently(mark, 5.0)  # no mark yet: nobody has predicted
    coreshare.note_serving()
    assert coreshare.serving_recently(mark, 5.0)
    assert not coreshare.serving_recently(mark, 5.0, now=time.time() + 6.0)


def test_a_burst_of_predictions_touches_the_mark_once_per_half_second(mark) -> None:
    coreshare.note_serving()
    os.utime(mark, (1.0, 1.0))  # as if long ago
    coreshare.note_serving()  # within the half second: not written again
    assert mark.stat().st_mtime == 1.0


def test_longer_work_holds_the_core_until_its_last_block_ends(mark) -> None:
    later = time.time() + 60.0  # well past the quiet time: only a hold still counts as serving then
    with coreshare.serving():
        with coreshare.serving():
            assert coreshare.serving_recently(mark, 5.0, now=later)
            coreshare.note_serving()  # a prediction meanwhile does not cut the hold short
        assert coreshare.serving_recently(mark, 5.0, now=later)
    assert coreshare.serving_recently(mark, 5.0) and not coreshare.serving_recently(mark, 5.0, now=later)


def test_the_job_gets_the_mark_unless_threads_are_pinned_or_the_share_is_off(mark, monkeypatch) -> None:
    assert coreshare.job_env() == {coreshare.MARK_ENV: str(mark)}
    monkeypatch.setattr(config, "JOB_TORCH_THREADS", 1)
    assert coreshare.job_env() == {}
    monkeypatch.setattr(config, "JOB_TORCH_THREADS", 0)
    monkeypatch.setattr(config, "JOB_ALL_CORES_WHEN_QUIET", False)
    assert coreshare.job_env() == {}


@pytest.mark.parametrize(("cpus", "expected"), [(2, (1, 2)), (4, (3, 4)), (1, None)])
def test_the_share_is_all_cores_but_one_while_serving_and_all_while_quiet(mark, monkeypatch, cpus, expected) -> None:
    monkeypatch.setattr(hardware, "usable_cpus", lambda: cpus)  # the machine's CPU count, faked
    monkeypatch.delenv(coreshare.MARK_ENV, raising=False)
    assert coreshare.job_share() is None  # a job nobody's app started: nothing to follow
    monkeypatch.setenv(coreshare.MARK_ENV, str(mark))
    share = coreshare.job_share()
    assert (share[1:] if share else None) == expected


def test_the_callback_switches_threads_only_when_the_app_starts_or_stops_serving(mark) -> None:
    before = torch.get_num_threads()
    callback = CoreShareCallback(mark, 1, 2, 5.0)
    try:
        callback.on_step_begin(None, None, None)  # quiet: every core
        assert torch.get_num_threads() == 2
        coreshare.note_serving()
        callback.on_step_begin(None, None, None)
        callback.on_step_begin(None, None, None)
        assert torch.get_num_threads() == 1
        os.utime(mark, (time.time() - 10, time.time() - 10))  # quiet for longer than 5 s
        callback.on_step_begin(None, None, None)
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)
    assert callback.summary() == {
        "threads_while_serving": 1,
        "threads_while_quiet": 2,
        "steps_with_all_cores": 2,
        "steps": 4,
    }


def test_mark_folders_of_apps_killed_before_atexit_are_swept(tmp_path, monkeypatch) -> None:
    """A SIGTERM skips atexit: the next app removes that folder, and leaves a live app's and a nameless one."""
    import subprocess
    import sys
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    ended = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    folders = {}
    for name, pid in (("dead", ended.stdout.strip()), ("live", str(os.getpid())), ("nameless", None)):
        folders[name] = tmp_path / f"bertdemo-serving-{name}"
        folders[name].mkdir()
        if pid:
            (folders[name] / "pid").write_text(pid)
    monkeypatch.setattr(coreshare, "_mark", None)
    mark = coreshare.serving_mark()
    assert not folders["dead"].exists()
    assert folders["live"].is_dir() and folders["nameless"].is_dir()
    assert mark.parent.parent == tmp_path and (mark.parent / "pid").read_text() == str(os.getpid())
    shutil.rmtree(mark.parent)
