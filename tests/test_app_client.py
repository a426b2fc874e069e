"""The named API endpoints through gradio_client, against the real app (real tiny model, real subprocess)."""

from __future__ import annotations

import time

import pytest
from gradio_client import Client, handle_file
from gradio_client.exceptions import AppError

from bertdemo import config
from bertdemo.runs import store
from tests.conftest import tiny_rows
from tests.helpers import make_tiny_run, unlisted_column_csvs, wait_done, write_csv

# gradio's own routes trip a starlette deprecation on every request: not ours to fix.
pytestmark = pytest.mark.filterwarnings("ignore:'HTTP_422_UNPROCESSABLE_ENTITY' is deprecated")

ENDPOINTS = {"/inspect", "/train", "/status", "/stop", "/predict", "/models", "/delete", "/export", "/compare"}
ENDPOINTS |= {"/predict_file", "/explain", "/audit"}
JOB_TIMEOUT_S = 300  # the subprocess imports torch and transformers first: slow on a busy 2-core machine


@pytest.fixture(scope="module")
def client(app_server) -> Client:
    return Client(app_server.url, verbose=False)


def settings(app_server, **extra) -> dict:
    return {"model": str(app_server.tiny), "epochs": 1, **extra}


@pytest.fixture(scope="module")
def trained(app_server, client):
    """One tiny run trained through /train, to its end."""
    job = client.predict(
        handle_file(str(app_server.small_csv)), settings(app_server, name="tiny-run"), api_name="/train"
    )
    return {"job": job, "final": wait_done(client, job["job_id"])}


def test_endpoints_are_named_and_documented(client):
    named = set(client.view_api(print_info=False, return_format="dict")["named_endpoints"])
    assert named == ENDPOINTS  # the UI's own events stay private: scripts see only the stable API


def test_the_idle_queue_polls_every_queue_poll_s(app_server):
    """gradio's queue looks for work every 1 ms by default: an idle app kept ~7% of a core busy (config)."""
    queue = app_server.demo._queue
    assert queue.sleep_when_free == queue.progress_update_sleep_when_free == config.QUEUE_POLL_S >= 0.01


def test_inspect_example_csv(client):
    report = client.predict(handle_file(str(config.EXAMPLE_CSV)), "", "", api_name="/inspect")
    assert report["text_column"] == "text" and report["label_column"] == "label"
    assert set(report["class_counts"]) == {"negative", "neutral", "positive"}
    assert report["rows"] == sum(report["class_counts"].values()) >= 100
    assert report["preview"] and set(report["preview"][0]) == {"text", "label"}
    assert {"p50", "p95", "max"} <= set(report["token_lengths"])


def test_inspect_with_chosen_columns(app_server, client, tmp_path):
    path = write_csv(tmp_path / "cols.csv", [(t, lab) for t, lab in tiny_rows(5)], header=("body", "verdict"))
    report = client.predict(handle_file(str(path)), "body", "verdict", api_name="/inspect")
    assert (report["text_column"], report["label_column"]) == ("body", "verdict")


def test_inspect_detects_unlisted_column_names(client, tmp_path):
    for path, text, label in unlisted_column_csvs(tmp_path).values():
        report = client.predict(handle_file(str(path)), "", "", api_name="/inspect")
        assert (report["text_column"], report["label_column"]) == (text, label)
        assert any("by their contents" in n for n in report["notes"]) or text == "Review Text"


def test_bad_csv_is_a_one_line_error_and_the_app_keeps_working(client, tmp_path):
    bad = tmp_path / "sheet.csv"
    bad.write_bytes(b"PK\x03\x04" + b"\x00" * 200)  # an Excel file renamed to .csv
    with pytest.raises(AppError) as err:
        client.predict(handle_file(str(bad)), "", "", api_name="/inspect")
    message = str(err.value)
    assert "\n" not in message and "Traceback" not in message
    assert "CSV" in message
    one_class = write_csv(tmp_path / "one.csv", [("fine", "pos")] * 10)
    with pytest.raises(AppError, match="class"):
        client.predict(handle_file(str(one_class)), "", "", api_name="/inspect")
    assert isinstance(client.predict(api_name="/models"), list)  # the next call still works


def test_train_rejects_bad_settings_at_once(app_server, client):
    csv = handle_file(str(app_server.small_csv))
    with pytest.raises(AppError, match="epochs"):
        client.predict(csv, settings(app_server, epochs=-1), api_name="/train")  # 0 means auto
    with pytest.raises(AppError, match="Unknown training setting"):
        client.predict(csv, {"epoch": 1}, api_name="/train")
    with pytest.raises(AppError, match="not a folder|config.json|cannot"):
        client.predict(csv, {"model": str(app_server.base / "no-such-model")}, api_name="/train")
    assert app_server.runner.active_job() is None


def test_train_runs_to_done(app_server, trained):
    final = trained["final"]
    assert final["state"] == "done", final.get("error")
    assert final["name"] == trained["job"]["name"] == "tiny-run"
    assert final["total_steps"] > 0 and final["step"] == final["total_steps"]
    assert len(final["history"]) == 1 and final["history"][0]["val_loss"] is not None
    assert "path" not in (final["result"] or {})  # no server paths in API answers
    assert (app_server.root / "tiny-run" / store.RUN_JSON).is_file()


def token(trained) -> str:
    """The owner token /train handed back: the run is private to whoever holds it."""
    return trained["job"]["owner_token"]


def test_models_lists_the_run(client, trained):
    runs = {r["name"]: r for r in client.predict(token(trained), api_name="/models")}
    assert runs["tiny-run"]["labels"] == ["negative", "positive"]
    assert runs["tiny-run"]["accuracy"] is not None and runs["tiny-run"]["access"] == "yours"
    assert "owner" not in runs["tiny-run"]  # not even its hash leaves the server
    # Private by default: a caller without the token does not see it.
    assert "tiny-run" not in {r["name"] for r in client.predict(api_name="/models")}
    assert "tiny-run" not in {r["name"] for r in client.predict("someone-else", api_name="/models")}


def test_predict(client, trained):
    answer = client.predict("tiny-run", "The coffee was wonderful", "pytorch", token(trained), api_name="/predict")
    assert answer["label"] in {"negative", "positive"}
    assert set(answer["probabilities"]) == {"negative", "positive"}
    assert sum(answer["probabilities"].values()) == pytest.approx(1.0, abs=1e-4)
    with pytest.raises(AppError, match="No saved run"):
        client.predict("no-such-run", "text", api_name="/predict")
    with pytest.raises(AppError, match="Type a text"):
        client.predict("tiny-run", "  ", api_name="/predict")
    with pytest.raises(AppError, match="No saved run named 'tiny-run'"):  # another caller's run: as if none
        client.predict("tiny-run", "The coffee was wonderful", api_name="/predict")


def test_status_of_unknown_job(client):
    with pytest.raises(AppError, match="No training job"):
        client.predict("0123456789ab", api_name="/status")


def test_busy_while_training_then_stop_saves_nothing(app_server, client, trained):
    csv = handle_file(str(app_server.small_csv))
    # 100 epochs at batch 1 (thousands of steps): still running when the next calls arrive, however slow the machine.
    mine = {"owner_token": "busy-test-caller"}  # the same caller twice: its own run is named to it
    job = client.predict(
        csv, settings(app_server, name="stopped-run", epochs=100, batch_size=1, **mine), api_name="/train"
    )
    with pytest.raises(AppError) as busy:
        client.predict(csv, settings(app_server, name="second-run", **mine), api_name="/train")
    assert str(busy.value).startswith("Busy:") and "'stopped-run'" in str(busy.value)
    # Other requests are answered while it trains, not queued behind it.
    assert isinstance(client.predict(api_name="/models"), list)
    assert client.predict(job["job_id"], api_name="/status")["state"] == "running"
    deadline = time.time() + JOB_TIMEOUT_S
    while client.predict(job["job_id"], api_name="/status")["phase"] != "training":
        assert time.time() < deadline
        time.sleep(0.3)
    client.predict(job["job_id"], api_name="/stop")
    final = wait_done(client, job["job_id"], timeout=120)
    assert final["state"] == "stopped", {k: final.get(k) for k in ("phase", "step", "total_steps", "error", "elapsed")}
    assert "stopped-run" not in {r["name"] for r in client.predict(api_name="/models")}
    assert not (app_server.root / "stopped-run").exists() and not (app_server.root / "second-run").exists()
    assert not [p for p in app_server.root.iterdir() if p.name.startswith(config.TMP_PREFIX)]


def test_export_and_compare(client, trained):
    report = client.predict("tiny-run", True, True, token(trained), api_name="/export")
    assert set(report["variants"]) == {"onnx", "onnx-optimized", "onnx-int8"}
    assert report["variants"]["onnx"]["passed"]
    runs = {r["name"]: r for r in client.predict(token(trained), api_name="/models")}
    assert "onnx" in runs["tiny-run"]["exports"]

    texts = ["The phone was superb, I would buy it again", "The hotel was dreadful, a waste of money"]
    compared = client.predict("tiny-run", texts, token(trained), api_name="/compare")
    assert [r["text"] for r in compared["rows"]] == texts
    assert {"pytorch", "onnx", "onnx-int8"} <= set(compared["backends"])
    for row in compared["rows"]:
        assert row["pytorch"]["label"] in {"negative", "positive"} and isinstance(row["agree"], bool)
    assert compared["backends"]["onnx"]["p50_ms"] > 0
    one_per_line = "\n".join(texts) + "\n\n"  # one per line works too
    as_lines = client.predict("tiny-run", one_per_line, token(trained), api_name="/compare")
    assert [r["text"] for r in as_lines["rows"]] == texts


def test_delete_by_another_client_is_refused_then_the_owner_deletes(client, trained, app_server):
    other = Client(app_server.url, verbose=False)  # another script, without the owner token
    for args in (("tiny-run",), ("tiny-run", "a-guessed-token")):
        with pytest.raises(AppError) as err:
            other.predict(*args, api_name="/delete")
        assert str(err.value).startswith("No saved run named 'tiny-run' (saved runs:")  # its existence is not told
    assert (app_server.root / "tiny-run" / store.RUN_JSON).is_file()
    assert client.predict("tiny-run", token(trained), api_name="/delete") == {"deleted": "tiny-run"}
    assert "tiny-run" not in {r["name"] for r in client.predict(token(trained), api_name="/models")}
    with pytest.raises(AppError, match="No saved run"):
        client.predict("tiny-run", token(trained), api_name="/delete")


def test_shared_runs_are_seen_by_all_and_deleted_by_none(client, app_server):
    """A run without an owner (command line, shipped with the app) is read-only over the API."""
    make_tiny_run(app_server.root, "shipped")
    try:
        assert {"name": "shipped", "access": "shared"}.items() <= {
            r["name"]: r for r in client.predict(api_name="/models")
        }["shipped"].items()
        assert client.predict("shipped", "a wonderful film", api_name="/predict")["label"] in {"negative", "positive"}
        with pytest.raises(AppError) as err:
            client.predict("shipped", "any-token", api_name="/delete")
        assert str(err.value) == (
            "Run 'shipped' came with the app or was saved from the command line: it is read-only here."
        )
    finally:
        store.delete_run("shipped", app_server.root)


def test_errors_are_one_line_without_traceback(client, app_server, tmp_path):
    """Every refusal of every endpoint: one line, no traceback, no CLI flag."""
    csv = handle_file(str(write_csv(tmp_path / "ok.csv", tiny_rows(5))))
    odd = handle_file(str(write_csv(tmp_path / "odd.csv", [(str(i), str(i)) for i in range(10)], header=("a", "b"))))
    calls = [
        ((odd, "", ""), "/inspect"),
        ((csv, "nope", ""), "/inspect"),
        ((csv, {"epochs": "many"}), "/train"),
        ((csv, {"colour": 1}), "/train"),
        (("",), "/status"),
        (("0123456789ab",), "/stop"),
        (("no-such-run", "text"), "/predict"),
        (("no-such-run", "text", "tensorflow"), "/predict"),
        (("",), "/delete"),
        (("../etc",), "/delete"),
        (("no-such-run",), "/export"),
        (("no-such-run", ["x"]), "/compare"),
        (("no-such-run", []), "/compare"),
    ]
    for args, api_name in calls:
        with pytest.raises(AppError) as err:
            client.predict(*args, api_name=api_name)
        message = str(err.value)
        assert message and "\n" not in message and "Traceback" not in message, (api_name, message)
        assert "--" not in message and "upstream Gradio app" not in message, (api_name, message)


def test_python_app_py_listens_on_gradio_server_port(tmp_path):
    """`python app.py` as a user runs it: GRADIO_SERVER_NAME/PORT respected, analytics off, API answers."""
    import os
    import subprocess
    import sys

    import httpx

    from tests.conftest import REPO, free_port

    port = free_port()
    env = {
        **os.environ,
        "GRADIO_SERVER_NAME": "127.0.0.1",
        "GRADIO_SERVER_PORT": str(port),
        "BERTDEMO_MODELS_DIR": str(tmp_path / "models"),
    }
    env.pop("GRADIO_ANALYTICS_ENABLED", None)  # app.py must turn analytics off by itself
    proc = subprocess.Popen(
        [sys.executable, "app.py"], cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        deadline = time.time() + 120
        while True:
            assert proc.poll() is None, proc.stdout.read()
            try:
                if httpx.get(f"http://127.0.0.1:{port}/", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.time() < deadline, "app.py did not start listening in 120 s"
            time.sleep(0.5)
        client = Client(f"http://127.0.0.1:{port}/", verbose=False)
        assert client.predict(api_name="/models") == []
        config_json = httpx.get(f"http://127.0.0.1:{port}/config", timeout=5).json()
        assert config_json["analytics_enabled"] is False
        assert config_json["max_file_size"] == config.MAX_UPLOAD_MB * 1024 * 1024
    finally:
        proc.terminate()
        proc.wait(timeout=30)
