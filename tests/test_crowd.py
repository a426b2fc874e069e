"""A Space that survives its crowd: hostile API callers against the real app (loopback, bounded)."""

from __future__ import annotations

import csv
import hashlib
import json
import os

import httpx
import pytest
from gradio_client import handle_file
from gradio_client.exceptions import AppError

from bertdemo import service
from bertdemo.runs import access, store
from tests.conftest import api_client, tiny_rows
from tests.helpers import make_tiny_model_dir, wait_done, write_csv

pytestmark = pytest.mark.filterwarnings("ignore:'HTTP_422_UNPROCESSABLE_ENTITY' is deprecated")

ALICE, BOB, EVE = "alice-secret-token-0001", "bob-secret-token-0002", "eve-secret-token-0003"
FORMULA = '=HYPERLINK("http://evil.example/","click")'


def private_run(root, name: str, secret: str, labels: list[str]):
    """A run of `secret`'s owner, saved where and as training saves one (tiny random model)."""
    staging = store.staging_dir(root)
    make_tiny_model_dir(staging, labels)
    info = {"name": name, "created": "2026-01-01T00:00:00", "base_model": "tiny", "labels": labels, "history": []}
    info |= {"params": {"max_length": 64}, "data": {"train_rows": 8, "val_rows": 2}, "metrics": {"accuracy": 0.5}}
    info["owner"] = access.owner_key(secret)
    (staging / store.RUN_JSON).write_text(json.dumps(info), encoding="utf-8")
    return store.commit_run(staging, name, root)  # models/<name>: the name is free here


@pytest.fixture(scope="module")
def client(app_server):
    return api_client(app_server.url)


@pytest.fixture(scope="module")
def bob_trained(app_server, client, tmp_path_factory):
    """Alice owns 'my-run' (cat/dog); Bob trains his own 'my-run' through /train, from a file with formulas."""
    private_run(app_server.root, "my-run", ALICE, ["cat", "dog"])
    rows = [*tiny_rows(12), (f"{FORMULA} great phone", "positive"), ("@SUM(1+1) awful phone", "negative")]
    src = write_csv(tmp_path_factory.mktemp("bob") / "bob.csv", rows)
    settings = {"model": str(app_server.tiny), "epochs": 1, "name": "my-run", "owner_token": BOB}
    job = client.predict(handle_file(str(src)), settings, api_name="/train")
    final = wait_done(client, job["job_id"])
    assert final["state"] == "done", final
    return final


def test_two_visitors_each_own_a_run_of_the_same_name(bob_trained, client, app_server):
    assert bob_trained["name"] == "my-run"
    alice = client.predict("my-run", "a text", "pytorch", ALICE, api_name="/predict")
    bob = client.predict("my-run", "a text", "pytorch", BOB, api_name="/predict")
    assert set(alice["probabilities"]) == {"cat", "dog"}
    assert set(bob["probabilities"]) == {"negative", "positive"}
    for token in (ALICE, BOB):
        assert [m["name"] for m in client.predict(token, api_name="/models") if m["access"] == "yours"] == ["my-run"]


def test_a_name_tells_nothing_about_other_visitors_runs(bob_trained, client, app_server):
    """The probe of the issue: a taken name answered 'already exists' before the seed error; now the seed error."""
    for name in ("my-run", "never-used"):
        with pytest.raises(AppError) as err:
            client.predict(
                handle_file(str(app_server.small_csv)),
                {"name": name, "seed": -1, "owner_token": EVE},
                api_name="/train",
            )
        assert "already exists" not in str(err.value) and "seed" in str(err.value).lower(), str(err.value)
    with pytest.raises(AppError, match="already exists among your runs"):  # the owner is told about their own
        client.predict(
            handle_file(str(app_server.small_csv)), {"name": "my-run", "owner_token": BOB}, api_name="/train"
        )


def test_direct_posts_skip_no_queue(app_server):
    """POST /gradio_api/run/<name> skipped the queue and its one-at-a-time limit on export and compare."""
    for api_name, data in (("predict", ["x", "hi", "pytorch", ""]), ("export", ["x", False, False, ""])):
        for prefix in ("gradio_api/run", "gradio_api/api"):
            answer = httpx.post(f"{app_server.url}{prefix}/{api_name}", json={"data": data}, timeout=30)
            assert answer.status_code == 404 and "join the queue" in answer.text, (api_name, answer.text[:200])


def read_rows(path) -> list[list[str]]:
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.reader(fh))


def test_downloaded_csvs_carry_no_formula(bob_trained, client, app_server, tmp_path):
    src = write_csv(tmp_path / "label.csv", [(FORMULA, "-1"), ("+cmd|' /C calc'!A0", "+0.5"), ("fine", "@x")])
    _, out = client.predict(handle_file(str(src)), "my-run", "pytorch", "text", "(none)", BOB, api_name="/predict_file")
    rows = read_rows(out)
    assert rows[1][0] == "'" + FORMULA and rows[2][0] == "'+cmd|' /C calc'!A0" and rows[3][1] == "'@x"
    assert rows[1][1] == "-1" and rows[2][1] == "+0.5"  # a number is no formula: it stays a number
    audited = service.audit_csv("my-run", root=app_server.root, owner=BOB)
    cells = [cell for row in read_rows(audited) for cell in row]
    assert not [c for c in cells if c[:1] in "=@" or (c[:1] in "+-" and not c[1:2].isdigit())], cells
    assert any(c.startswith("'" + FORMULA) for c in cells)


def test_a_job_over_the_time_limit_is_stopped_early_with_one_line(app_server, client, monkeypatch):
    """/train {"epochs": 100, "batch_size": 1} held the only slot for an hour; the limit stops it from its ETA."""
    monkeypatch.setattr(app_server.runner, "time_limit_s", 20.0)
    settings = {"model": str(app_server.tiny), "epochs": 100, "batch_size": 1, "owner_token": EVE}
    job = client.predict(handle_file(str(app_server.small_csv)), settings, api_name="/train")
    final = wait_done(client, job["job_id"], timeout=180)
    assert final["state"] == "stopped", final["state"]
    assert "20 s limit" in final["message"] and "fewer epochs" in final["message"], final["message"]
    assert "\n" not in final["message"] and final["elapsed"] < 60  # stopped within its first minute
    assert app_server.runner.active_job() is None


class FakeHub:
    """The Hub's model-info and file routes on loopback: what a visitor's base model check asks, with which headers."""

    def __init__(self, models: dict[str, dict]):
        import http.server
        import threading

        self.models, self.requests = models, []
        hub = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def do_HEAD(self):
                self.do_GET()

            def do_GET(self):
                hub.requests.append((self.path, self.headers.get("authorization")))
                repo = self.path.split("?")[0]
                body = None
                for repo_id, model in hub.models.items():
                    if repo.startswith(f"/api/models/{repo_id}"):
                        body = {
                            "id": repo_id,
                            **({"safetensors": model["safetensors"]} if "safetensors" in model else {}),
                        }
                    elif repo == f"/{repo_id}/resolve/main/config.json" and "config" in model:
                        body = model["config"]
                data = json.dumps(body).encode() if body is not None else b"{}"
                self.send_response(200 if body is not None else 404)
                self.send_header("Content-Type", "application/json")
                self.send_header("ETag", f'"{hashlib.sha1(data).hexdigest()}"')  # what hf_hub_download needs
                self.send_header("X-Repo-Commit", "0" * 40)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if self.command == "GET":
                    self.wfile.write(data)

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


LLAMA_CONFIG = {  # a Llama 3 8B's config: it has a sequence-classification head in transformers
    "model_type": "llama",
    "architectures": ["LlamaForCausalLM"],
    "hidden_size": 4096,
    "intermediate_size": 14336,
    "num_hidden_layers": 32,
    "num_attention_heads": 32,
    "num_key_value_heads": 8,
    "vocab_size": 128256,
}


@pytest.fixture
def fake_hub(monkeypatch, tmp_path):
    import huggingface_hub.constants
    import huggingface_hub.file_download
    import transformers.utils.hub

    from bertdemo.training import basemodels

    hub = FakeHub(
        {
            "meta-llama/Llama-3.1-8B": {"safetensors": {"parameters": {"BF16": 8_030_261_248}, "total": 8_030_261_248}},
            "someone/big-no-safetensors": {"config": LLAMA_CONFIG},
        }
    )
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setenv("HF_ENDPOINT", hub.url)
    monkeypatch.setattr(huggingface_hub.constants, "ENDPOINT", hub.url)
    template = hub.url + "/{repo_id}/resolve/{revision}/{filename}"
    monkeypatch.setattr(huggingface_hub.constants, "HUGGINGFACE_CO_URL_TEMPLATE", template)
    monkeypatch.setattr(huggingface_hub.file_download, "HUGGINGFACE_CO_URL_TEMPLATE", template)
    monkeypatch.setattr(transformers.utils.hub, "TRANSFORMERS_CACHE", str(tmp_path / "hub"))  # not the real cache
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path / "hub"))
    monkeypatch.setenv("HF_TOKEN", "hf_operators_private_token")  # the operator's: never sent for a visitor
    monkeypatch.setattr(basemodels, "_hub_checked", {})
    yield hub
    hub.server.shutdown()
    basemodels._hub_checked.clear()


def test_a_huge_hub_model_is_refused_before_any_download_and_without_the_operators_token(fake_hub, app_server, client):
    for model in ("meta-llama/Llama-3.1-8B", "someone/big-no-safetensors"):
        with pytest.raises(AppError) as err:
            settings = {"model": model, "epochs": 1, "owner_token": EVE}
            client.predict(handle_file(str(app_server.small_csv)), settings, api_name="/train")
        assert "limit" in str(err.value) and "M parameters" in str(err.value), str(err.value)
    paths = [path for path, _ in fake_hub.requests]
    assert any(p.startswith("/api/models/meta-llama/Llama-3.1-8B") for p in paths), paths
    assert not any("Llama-3.1-8B/resolve" in p for p in paths), paths  # the size was known: nothing downloaded
    assert [auth for _, auth in fake_hub.requests if auth] == []
    assert app_server.runner.active_job() is None


def test_visitors_have_a_quota_and_unused_runs_expire(bob_trained, app_server, client, monkeypatch):
    import os
    import time

    from bertdemo import config
    from tests.helpers import make_tiny_run

    root = app_server.root
    old = private_run(root, "old-run", ALICE, ["cat", "dog"])
    shared = make_tiny_run(root, "shared-old")
    long_ago = time.time() - 8 * 86400  # unused for 8 days: past the 7-day default
    for path in (old, shared):
        os.utime(path, (long_ago, long_ago))
    monkeypatch.setattr(config, "VISITOR_MAX_RUNS", 1)
    settings = {"model": str(app_server.tiny), "epochs": 1, "owner_token": ALICE}
    with pytest.raises(AppError) as err:
        client.predict(handle_file(str(app_server.small_csv)), settings, api_name="/train")
    message = str(err.value)
    assert "You have 1 saved run" in message and "my-run" in message and "delete" in message, message
    assert not old.exists() and shared.exists()  # expired first; shared runs never expire
    monkeypatch.setattr(config, "VISITOR_MAX_RUNS", 5)
    monkeypatch.setattr(config, "VISITOR_MAX_MB", 0.001)
    for call, args in (("/train", (handle_file(str(app_server.small_csv)), settings)), ("/export", ("my-run",))):
        with pytest.raises(AppError, match="MB one visitor may keep"):
            client.predict(*args, *(() if call == "/train" else (False, False, ALICE)), api_name=call)
    assert app_server.runner.active_job() is None
    store.delete_run("shared-old", root)


def test_downloads_are_built_once_per_run_version_within_one_budget(bob_trained, app_server, monkeypatch, tmp_path):
    import tempfile

    from bertdemo import config
    from bertdemo.errors import OverQuota
    from bertdemo.runs import tempfiles

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # this test's own temp dir: other servers use /tmp too
    root = app_server.root
    first = service.zip_run("my-run", root, owner=BOB)  # what the Models tab's "Download as zip" hands out
    audit = service.audit_csv("my-run", root=root, owner=BOB)  # the Train tab's audit download
    used = tempfiles.temp_bytes()
    assert service.zip_run("my-run", root, owner=BOB) == first  # reused, not built again
    assert service.audit_csv("my-run", root=root, owner=BOB) == audit
    assert tempfiles.temp_bytes() == used
    # One budget for them all: a new download drops the oldest ones first.
    monkeypatch.setattr(tempfiles, "DOWNLOAD_GRACE_S", 0.0)
    monkeypatch.setattr(config, "TEMP_BUDGET_MB", 1.5 * first.stat().st_size / tempfiles.MB)
    alice = service.zip_run("my-run", root, owner=ALICE)
    assert alice.is_file() and not first.exists()
    assert tempfiles.temp_bytes() <= config.TEMP_BUDGET_MB * tempfiles.MB
    monkeypatch.setattr(config, "TEMP_BUDGET_MB", 0.01)  # not even one fits: refused in one line, nothing kept
    with pytest.raises(OverQuota, match="room for downloads"):
        service.zip_run("my-run", root, owner=BOB)
    assert not list(tmp_path.glob(f"{config.ZIP_DIR_PREFIX}*"))  # older zips dropped, the refused one not kept


def test_a_visitors_job_never_gets_the_operators_hub_token(monkeypatch):
    from bertdemo import config
    from bertdemo.jobs.runner import visitor_env

    env = visitor_env({"HF_TOKEN": "hf_x", "HUGGING_FACE_HUB_TOKEN": "hf_y", "PATH": "/bin"})
    assert env == {"PATH": "/bin", "HF_HUB_DISABLE_IMPLICIT_TOKEN": "1"}
    monkeypatch.setattr(config, "VISITOR_HUB_TOKEN", True)  # the operator's choice
    assert visitor_env({"HF_TOKEN": "hf_x"}) == {"HF_TOKEN": "hf_x"}


def test_an_api_uploads_file_is_deleted_when_its_job_ends(bob_trained, app_server):
    import time
    from pathlib import Path

    upload = Path(app_server.runner.request_of(bob_trained["job_id"]).csv_path)
    deadline = time.time() + 10  # the job's watcher deletes it within a poll of the job's end
    while upload.exists() and time.time() < deadline:
        time.sleep(0.2)
    assert not upload.exists(), upload


# --- a page's own state (gr.State) against a replayed session hash -------------------------------------------------


def event_index(demo, name: str) -> tuple[int, object]:
    """fn_index and BlockFunction of the page event whose handler is called `name`."""
    for index, fn in demo.fns.items():
        if getattr(fn.fn, "__name__", "") == name:
            return index, fn
    raise LookupError(name)


def run_event(url: str, demo, name: str, session: str, values: dict) -> tuple[bool, object]:
    """Send one page event as a browser does (queue join, then its event stream): (success, output or error)."""
    index, fn = event_index(demo, name)
    data = [None] * len(fn.inputs)  # a gr.State input is filled in by the server from the session's state
    for i, block in enumerate(fn.inputs):
        for kind, value in values.items():
            if type(block).__name__ == kind or getattr(block, "label", None) == kind:
                data[i] = value
    body = {"data": data, "fn_index": index, "session_hash": session, "event_data": None, "trigger_id": None}
    assert httpx.post(f"{url}gradio_api/queue/join", json=body, timeout=30).status_code == 200
    with httpx.stream("GET", f"{url}gradio_api/queue/data", params={"session_hash": session}, timeout=60) as stream:
        for line in stream.iter_lines():
            message = json.loads(line[5:]) if line.startswith("data:") else {}
            if message.get("msg") == "process_completed":
                return bool(message.get("success")), message.get("output")
    raise AssertionError("no answer")


def test_a_replayed_session_hash_does_not_read_that_pages_upload(app_server, tmp_path):
    victim_file = write_csv(
        tmp_path / "victims-secret.csv", [(f"secret text {i}", "a" if i % 2 else "b") for i in range(8)]
    )
    with open(victim_file, "rb") as fh:
        (uploaded,) = httpx.post(f"{app_server.url}gradio_api/upload", files={"files": fh}, timeout=30).json()
    url, demo, page = app_server.url, app_server.demo, "victim-session-0001"
    file_data = {"path": uploaded, "orig_name": "victims-secret.csv", "meta": {"_type": "gradio.FileData"}}
    assert run_event(url, demo, "attach", page, {"BrowserState": "victims-browser-id"})[0]
    assert run_event(url, demo, "load_csv", page, {"File": file_data})[0]
    as_owner = {"BrowserState": "victims-browser-id", "Text column": "text", "Label column": "label"}
    ok, output = run_event(url, demo, "reinspect", page, as_owner)
    assert ok and "secret text" in json.dumps(output)  # the page itself reads its upload
    as_attacker = {**as_owner, "BrowserState": "attackers-browser-id"}
    ok, output = run_event(url, demo, "reinspect", page, as_attacker)
    assert not ok and "secret text" not in json.dumps(output), output


def test_a_training_job_yields_the_cpu_to_the_apps_answers():
    import subprocess
    import sys

    from bertdemo.jobs.kinds import lower_priority

    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        lower_priority(child.pid, 7)
        assert os.getpriority(os.PRIO_PROCESS, child.pid) == max(7, os.getpriority(os.PRIO_PROCESS, 0))
    finally:
        child.kill()
        child.wait()


def test_a_thread_mode_jobs_hub_downloads_carry_no_operator_token(fake_hub, tmp_path, monkeypatch):
    """ZeroGPU trains in the app's own process, where HF_TOKEN is set: transformers' downloads for the visitor's
    base model must not send it (item 6). The fake Hub records every request's Authorization header."""
    import huggingface_hub.constants

    from bertdemo.jobs.runner import JobRunner, TrainRequest
    from bertdemo.ui import build_app

    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_DISABLE_IMPLICIT_TOKEN", False)  # restored after
    monkeypatch.setenv("HF_HUB_DISABLE_IMPLICIT_TOKEN", "0")
    fake_hub.models["someone/small-bert"] = {
        "safetensors": {"parameters": {"F32": 4_000_000}, "total": 4_000_000},
        "config": {"model_type": "bert", "architectures": ["BertModel"], "hidden_size": 32, "vocab_size": 99},
    }
    root = tmp_path / "models"
    root.mkdir()
    runner = JobRunner(root=root, mode="thread", gpu_wrapper=lambda fn: fn)
    build_app(root=root, runner=runner)  # the app's start-up, as on a ZeroGPU Space (nothing launched)
    csv_path = write_csv(tmp_path / "reviews.csv", tiny_rows())
    job = runner.start(TrainRequest(csv_path=str(csv_path), model="someone/small-bert", epochs=1), owner="v")
    final = runner.wait(job, timeout=120)
    assert final["state"] == "failed"  # the fake Hub has no tokenizer: the job fails after asking for it
    paths = [path for path, _ in fake_hub.requests]
    assert any(p.startswith("/someone/small-bert/resolve/main/tokenizer") for p in paths), paths
    assert [auth for _, auth in fake_hub.requests if auth] == [], "the operator's token went out with a request"


def test_an_upload_of_the_same_bytes_made_after_the_job_started_is_kept(tmp_path):
    """gradio files uploads by content: another caller's upload of the same file lands on the job's upload path,
    rewritten then; the ended job must not delete it under them (a flaky 'uploaded file is gone' in the suite)."""
    import time

    from bertdemo.jobs.runner import _drop_upload

    upload = tmp_path / "0123abcd" / "small.csv"
    upload.parent.mkdir()
    upload.write_text("text,label\n")
    started = time.time() - 60
    os.utime(upload, (started + 30, started + 30))  # uploaded again 30 s after the job started
    _drop_upload(upload, started)
    assert upload.exists()
    os.utime(upload, (started - 5, started - 5))  # only the job's own upload
    _drop_upload(upload, started)
    assert not upload.exists()
    _drop_upload(upload, started)  # already gone: nothing to do
