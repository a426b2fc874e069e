"""Heavy in-process work runs on threads that yield the CPU to the app's quick answers (service.lowpriority)."""

from __future__ import annotations

import contextvars
import json
import os
import threading

import pytest

from bertdemo import config
from bertdemo.runs import access, store
from bertdemo.service import lowpriority

pytestmark = pytest.mark.skipif(not hasattr(os, "setpriority"), reason="per-thread nice values are Linux's")

WHO = contextvars.ContextVar("who", default=None)


def _niceness() -> int:
    return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())


def test_the_work_runs_niced_and_so_do_the_threads_it_starts():
    seen = {}

    def work():
        seen["work"] = _niceness()
        child = threading.Thread(target=lambda: seen.setdefault("child", _niceness()))  # as torch's OpenMP team
        child.start()
        child.join()
        return "done"

    before = _niceness()
    assert lowpriority.run_low_priority(work) == "done"
    assert seen["work"] >= config.HEAVY_NICENESS > before and seen["child"] >= config.HEAVY_NICENESS
    assert _niceness() == before, "the caller's own thread keeps its priority"


def test_the_callers_context_and_errors_go_along():
    token = WHO.set("event-7")  # gradio finds an event's progress bar through context variables
    try:
        assert lowpriority.run_low_priority(WHO.get) == "event-7"
    finally:
        WHO.reset(token)
    with pytest.raises(ValueError, match="bad"):
        lowpriority.run_low_priority(lambda: (_ for _ in ()).throw(ValueError("bad")))


def test_an_export_and_a_file_prediction_run_on_the_low_priority_threads(monkeypatch, tmp_path):
    """Both service entry points hand their work to the pool (the tiny run exports and predicts for real)."""
    import importlib

    from bertdemo import service
    from tests.helpers import make_tiny_run, write_csv

    root = tmp_path / "models"
    root.mkdir()
    run = make_tiny_run(root, "tiny")
    info = json.loads((run / store.RUN_JSON).read_text(encoding="utf-8"))
    info["owner"] = access.owner_key("secret")  # a visitor's run: theirs to export
    (run / store.RUN_JSON).write_text(json.dumps(info), encoding="utf-8")
    seen = []
    real = lowpriority.run_low_priority

    def spy(fn, *args, **kwargs):
        return real(lambda: (seen.append(_niceness()), fn(*args, **kwargs))[1])

    for module in ("bertdemo.service.exports", "bertdemo.service.predict"):
        monkeypatch.setattr(importlib.import_module(module), "run_low_priority", spy)
    csv_path = write_csv(tmp_path / "texts.csv", [("a wonderful film", "positive"), ("dull", "negative")])
    assert service.predict_file(csv_path, "tiny", "pytorch", root=root, owner="secret")["rows"] == 2
    assert service.export("tiny", root=root, owner="secret")["variants"]["onnx"]
    assert len(seen) == 2 and min(seen) >= config.HEAVY_NICENESS
