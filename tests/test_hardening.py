"""Issue 19's findings inside the package: races on a run folder, crash output, caches, ZeroGPU's forked worker.

The attacks through the live app are in tests/test_security.py; these are the parts a visitor reaches only
through timing (two requests at once), a crash, or the ZeroGPU runtime.
"""

from __future__ import annotations

import logging
import multiprocessing
import sys
import threading
import time

import pytest

from bertdemo import config
from bertdemo.errors import BertDemoError, RunNotFound
from bertdemo.runs import access, store, tempfiles
from tests.conftest import tiny_rows
from tests.helpers import make_tiny_run, write_csv


def wait_for(predicate, timeout: float, what: str) -> None:
    deadline = time.time() + timeout
    while not predicate():
        assert time.time() < deadline, f"{what}: not within {timeout} s"
        time.sleep(0.05)


# --- run.json and README.md of a live run -----------------------------------------------------------------------


def test_concurrent_run_json_updates_lose_nothing(models_root) -> None:
    """Export, the owner check and a retrain's bookkeeping all update run.json: read-modify-write needs a lock."""
    make_tiny_run(models_root, "busy")

    def work(t: int) -> None:
        for i in range(5):
            store.update_run("busy", {f"k{t}_{i}": i}, models_root)

    threads = [threading.Thread(target=work, args=(t,)) for t in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    info = store.load_run("busy", models_root)
    assert sum(1 for k in info if k.startswith("k")) == 4 * 5  # without the lock: 5 to 7 of them


def test_the_model_card_is_replaced_not_rewritten_in_place(models_root) -> None:
    """A download zipping the run while an export rewrites its card reads the old card or the new one, whole."""
    from bertdemo.runs.modelcard import CARD_FILE, write_model_card

    run = make_tiny_run(models_root, "carded")
    info = store.load_run("carded", models_root)
    write_model_card(run, info)
    with open(run / CARD_FILE, encoding="utf-8") as reader:  # a reader in the middle of the file
        first = reader.read(10)
        inode = (run / CARD_FILE).stat().st_ino
        write_model_card(run, {**info, "name": "carded-v2"})
        assert (run / CARD_FILE).stat().st_ino != inode  # a new file renamed over the old one
        assert len(first + reader.read()) > 100  # the reader still gets the whole old card
    assert not [p for p in run.iterdir() if p.name.startswith(".") and p.name != CARD_FILE]


def test_a_run_deleted_meanwhile_is_not_found(models_root, monkeypatch) -> None:
    """Two deletes at once: the second one finds the folder gone after its checks (fault injected there)."""
    make_tiny_run(models_root, "twice")
    found = store.run_dir

    def other_delete_wins(name, root=None):
        path = found(name, root)
        path.rename(path.with_name(f"{config.TMP_PREFIX}gone"))  # what the first delete does
        return path

    monkeypatch.setattr(store, "run_dir", other_delete_wins)
    with pytest.raises(RunNotFound):
        store.delete_run("twice", models_root)


def test_a_damaged_run_json_is_a_one_line_error(models_root) -> None:
    make_tiny_run(models_root, "broken")
    (models_root / "broken" / store.RUN_JSON).write_text("{ not json", encoding="utf-8")
    with pytest.raises(BertDemoError) as err:
        store.load_run("broken", models_root)
    assert "\n" not in str(err.value) and "broken" in str(err.value)
    with pytest.raises(RunNotFound) as hidden:  # its owner cannot be read: nobody's, so not found
        access.check_visible("broken", "anyone", models_root)
    with pytest.raises(RunNotFound) as missing:
        access.check_visible("nothing-here", "anyone", models_root)
    assert str(hidden.value).replace("broken", "X") == str(missing.value).replace("nothing-here", "X")


# --- a crashed job ------------------------------------------------------------------------------------------------

CRASH = (
    'import sys; sys.stderr.write(\'Traceback (most recent call last):\\n  File "/srv/secret/app.py", line 7\\n'
    "ValueError: Seed must be between 0 and 2**32 - 1\\n'); sys.exit(1)"
)


def test_a_crashed_job_shows_one_line_and_logs_the_details(models_root, caplog) -> None:
    from bertdemo.jobs.kinds import ProcessJob
    from bertdemo.training.pipeline import TrainRequest

    workdir = tempfiles.new_temp_dir(config.JOB_DIR_PREFIX)
    job = ProcessJob(
        id="crash",
        owner="a",
        request=TrainRequest(csv_path="x.csv", name="crash"),
        workdir=workdir,
        root=models_root,
        command=[sys.executable, "-c", CRASH],
    )
    with caplog.at_level(logging.WARNING):
        job.launch()
        wait_for(lambda: job.poll() != "running", 60, "the crashing job never ended")
    assert job.state == "failed"
    assert "Traceback" not in job.error and "/srv/secret" not in job.error and "ValueError" not in job.error
    assert "\n" not in job.error and "server log" in job.error
    assert "/srv/secret/app.py" in caplog.text  # the operator still sees what happened


# --- ZeroGPU: the job's function runs in a forked worker ------------------------------------------------------------


def forked_gpu(fn):
    """What spaces.GPU does on ZeroGPU: the call runs in a forked worker and only its return value comes back."""

    def wrapped(*args, **kwargs):
        ctx = multiprocessing.get_context("fork")
        receive, send = ctx.Pipe(duplex=False)

        def worker() -> None:
            try:
                send.send(("value", fn(*args, **kwargs)))
            except BaseException as exc:  # noqa: BLE001 - sent back, as ZeroGPU re-raises it in the caller
                send.send(("error", f"{type(exc).__name__}: {exc}"))

        process = ctx.Process(target=worker, daemon=True)
        process.start()
        kind, value = receive.recv()
        process.join()
        if kind == "error":
            raise RuntimeError(value)
        return value

    return wrapped


@pytest.mark.skipif(sys.platform != "linux", reason="ZeroGPU forks; only Linux has fork as a safe default here")
def test_a_thread_job_in_a_forked_gpu_worker_reports_its_run(models_root, tiny_model_dir, tmp_path) -> None:
    from bertdemo.jobs.runner import JobRunner
    from bertdemo.training.pipeline import TrainRequest

    csv = write_csv(tmp_path / "small.csv", tiny_rows(12))
    runner = JobRunner(root=models_root, mode="thread", gpu_wrapper=forked_gpu)
    request = TrainRequest(csv_path=str(csv), name="zero", model=str(tiny_model_dir), epochs=1, batch_size=8)
    job = runner.start(request, owner="zero-owner")
    final = runner.wait(job, timeout=300)
    assert final["state"] == "done", final
    assert final["result"]["name"] == "zero" and (models_root / "zero" / store.RUN_JSON).is_file()
    assert len(final["history"]) == 1 and final["step"] == final["total_steps"] > 0  # the progress came back
    assert access.is_mine(store.load_run("zero", models_root).get(access.OWNER_FIELD), "zero-owner")
    assert runner.active_job() is None


# --- the Predict tab's worker and the explanation cache ---------------------------------------------------------------


def test_a_file_prediction_stops_when_its_page_goes_away(models_root, tmp_path) -> None:
    """The worker ends at its next chunk once cancelled, and the next one waits for it: one worker at a time."""
    from bertdemo.service import FilePrediction

    make_tiny_run(models_root, "labeler")
    big = write_csv(tmp_path / "big.csv", tiny_rows(10_000))
    first = FilePrediction(big, "labeler", "pytorch", root=models_root, owner=None)
    first.start()
    wait_for(lambda: first.progress.get("done"), 120, "the first prediction never started")
    first.cancel()  # the browser was closed or reloaded
    second = FilePrediction(big, "labeler", "pytorch", root=models_root, owner=None)
    second.start()
    wait_for(lambda: not first.running, 30, "a cancelled prediction kept running")
    assert first.progress["done"] < first.progress["total"]
    with pytest.raises(BertDemoError):
        first.result()
    wait_for(lambda: second.progress.get("done"), 120, "the second prediction never started")
    second.cancel()
    wait_for(lambda: not second.running, 30, "the second prediction kept running")


def test_the_explanation_cache_is_bounded_and_forgets_deleted_runs(models_root) -> None:
    from bertdemo import service
    from bertdemo.inference import explain

    explain.clear_cache()
    names = [f"ex{i}" for i in range(config.EXPLAIN_CACHE_MAX + 2)]
    for name in names:
        make_tiny_run(models_root, name)
        store.update_run(name, {access.OWNER_FIELD: access.owner_key("me")}, models_root)
        explain.explain(name, "a wonderful film", root=models_root, steps=2)
        assert len(explain._cache) <= config.EXPLAIN_CACHE_MAX
    service.delete_model(names[-1], models_root, owner="me")
    assert not any(names[-1] in key for key in explain._cache)
    explain.clear_cache()
