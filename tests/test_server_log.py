"""The log of `python app.py` an operator reads: a short walk and an export leave no deprecation spam and no
quantizer notes (issue: 373 HTTP_422 deprecation lines and hundreds of quantizer INFO lines in one walk)."""

from __future__ import annotations

import os
import signal

from bench.appprocess import start_app
from bertdemo.runs import access, store
from tests.conftest import api_client, free_port
from tests.helpers import make_tiny_run

NOISE = ("HTTP_422_UNPROCESSABLE_ENTITY", "DefaultTensorType", "Ignore MatMul")


def test_the_server_log_of_a_walk_and_an_export_holds_what_matters(tmp_path):
    models = tmp_path / "models"
    models.mkdir()
    make_tiny_run(models, "tiny")
    store.update_run("tiny", {access.OWNER_FIELD: access.owner_key("walker")}, models)  # as if trained via /train
    log = tmp_path / "app.log"
    port = free_port()
    proc = start_app(models, port, log)
    try:
        client = api_client(f"http://127.0.0.1:{port}/")
        for _ in range(3):  # every queued event used to add one deprecation warning
            assert client.predict("walker", api_name="/models")[0]["name"] == "tiny"
            client.predict("tiny", "a wonderful film", "pytorch", "walker", api_name="/predict")
        report = client.predict("tiny", True, True, "walker", api_name="/export")
        assert report["int8_source"] == "onnx-optimized"  # the fused graph was quantized: the noisy path ran
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=60)
    lines = log.read_text(errors="replace").splitlines()
    noisy = [line for line in lines if any(n in line for n in NOISE)]
    assert not noisy, f"{len(noisy)} noisy lines, e.g. {noisy[:3]}"
    assert len(lines) < 40, "\n".join(lines)
