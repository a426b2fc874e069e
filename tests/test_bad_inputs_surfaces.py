"""The bad-input corpus, hostile run names and unusable base models, through the surfaces users touch:
the CLI as a real subprocess and the app's API through gradio_client (tests/test_bad_inputs.py covers the core)."""

from __future__ import annotations

import ast
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from gradio_client import handle_file
from gradio_client.exceptions import AppError

from bertdemo import config
from bertdemo.runs import store
from tests.conftest import REPO, api_client
from tests.helpers import make_tiny_run
from tests.test_bad_inputs import BAD_DIR, CASES

pytestmark = pytest.mark.filterwarnings("ignore:'HTTP_422_UNPROCESSABLE_ENTITY' is deprecated")

IDS = [case["file"] for case in CASES]
JOB_TIMEOUT_S = 300


def run_cli(*args: str, root: Path, timeout: int = 120) -> subprocess.CompletedProcess:
    env = {**os.environ, "BERTDEMO_MODELS_DIR": str(root)}
    return subprocess.run(
        [sys.executable, "-m", "bertdemo", *args], capture_output=True, text=True, env=env, cwd=REPO, timeout=timeout
    )


def assert_refused(proc: subprocess.CompletedProcess, fragment: str) -> str:
    """Exit 2 and exactly one stderr line 'error: ...' holding fragment, no traceback."""
    assert proc.returncode == 2, (proc.returncode, proc.stdout[-500:], proc.stderr[-2000:])
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:"), proc.stderr
    assert "Traceback" not in proc.stderr
    assert fragment in lines[0], lines[0]
    return lines[0]


def assert_app_error(exc: AppError, fragment: str) -> str:
    message = str(exc)
    assert "\n" not in message and "Traceback" not in message, message
    assert 0 < len(message) < 400, message
    assert fragment in message, message
    return message


@pytest.fixture(scope="module")
def client(app_server):
    return api_client(app_server.url)


# --- the corpus ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_corpus_through_the_cli(case, tmp_path) -> None:
    proc = run_cli("inspect", str(BAD_DIR / case["file"]), "--json", root=tmp_path)
    if case["expect"] == "refuse":
        assert_refused(proc, case["message"])
        return
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stderr.strip() == ""
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    assert report["rows"] == case["rows"]
    assert len(report["class_counts"]) == case["classes"]


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_corpus_through_the_api(case, client) -> None:
    upload = handle_file(str(BAD_DIR / case["file"]))
    if case["expect"] == "refuse":
        with pytest.raises(AppError) as err:
            client.predict(upload, "", "", api_name="/inspect")
        assert_app_error(err.value, case["message"])
        assert isinstance(client.predict(api_name="/models"), list)  # the next request is answered normally
        return
    report = client.predict(upload, "", "", api_name="/inspect")
    assert report["rows"] == case["rows"]
    assert len(report["class_counts"]) == case["classes"]


def test_file_over_the_upload_limit(app_server, client, tmp_path) -> None:
    big = tmp_path / "big.csv"
    with open(big, "wb") as fh:  # sparse: no disk used
        fh.truncate(config.MAX_UPLOAD_MB * 1024 * 1024 + 1)
    limit = f"{config.MAX_UPLOAD_MB * 1024 * 1024} bytes"
    # gradio_client refuses before sending, from the server's max_file_size...
    with pytest.raises(ValueError, match=f"exceeds the maximum file size of {limit}"):
        client.predict(handle_file(str(big)), "", "", api_name="/inspect")
    # ...and a client that sends anyway gets a 413 from the server, with the limit in the message.
    with open(big, "rb") as fh:
        answer = httpx.post(
            f"{app_server.url}gradio_api/upload", files={"files": ("big.csv", fh, "text/csv")}, timeout=120
        )
    assert answer.status_code == 413, answer.text[:500]
    assert f"maximum allowed size of {limit}" in answer.text
    assert isinstance(client.predict(api_name="/models"), list)


# --- run names -------------------------------------------------------------------------------------------------------

# name -> the folder it folds to inside models/ (None: refused as it is)
HOSTILE_NAMES = {
    "../x": "x",
    "/etc/passwd": "etc-passwd",
    "..\\x": "x",
    "ｍｙ－ｒｕｎ": "my-run",  # full-width look-alikes
    "a\x00b": None,
    "n" * 200: None,
}


@pytest.fixture
def occupied(app_server):
    """Runs at every folder a hostile name folds to: a new run there must be refused, never overwrite them."""
    root = app_server.root
    for target in {t for t in HOSTILE_NAMES.values() if t}:
        make_tiny_run(root, target)
    before = {p.name: (p / store.RUN_JSON).read_bytes() for p in root.iterdir()}
    yield root, before
    for target in {t for t in HOSTILE_NAMES.values() if t}:
        store.delete_run(target, root)


@pytest.mark.parametrize("name", list(HOSTILE_NAMES), ids=["dotdot", "abs", "backslash", "lookalike", "nul", "long"])
def test_hostile_names_through_the_api(name, app_server, client, occupied) -> None:
    root, before = occupied
    settings = {"model": str(app_server.tiny), "epochs": 1, "name": name}
    with pytest.raises(AppError) as err:
        client.predict(handle_file(str(app_server.small_csv)), settings, api_name="/train")
    expected = f"A run named '{HOSTILE_NAMES[name]}' already exists" if HOSTILE_NAMES[name] else "Run name"
    assert_app_error(err.value, expected)
    assert app_server.runner.active_job() is None
    # Lookups take exact names only: '../x' or a look-alike never reaches (or deletes) the run 'x'.
    for api_name, args in (("/predict", (name, "hello")), ("/delete", (name,))):
        with pytest.raises(AppError) as err:
            client.predict(*args, api_name=api_name)
        assert_app_error(err.value, "No saved run named" if HOSTILE_NAMES[name] else "Run name")
    assert {p.name: (p / store.RUN_JSON).read_bytes() for p in root.iterdir()} == before


@pytest.mark.parametrize(
    "name",
    ["../x", "/etc/passwd", "..\\x", "ｍｙ－ｒｕｎ", "n" * 200],
    ids=["dotdot", "abs", "backslash", "lookalike", "long"],
)
def test_hostile_names_through_the_cli(name, tmp_path) -> None:
    """(A NUL cannot be passed on a command line at all.)"""
    root = tmp_path / "models"
    for target in {t for t in HOSTILE_NAMES.values() if t}:
        make_tiny_run(root, target)
    before = sorted(p.name for p in root.iterdir())
    csv_path = BAD_DIR / "crlf.csv"
    target = HOSTILE_NAMES[name]
    train = run_cli("train", str(csv_path), "--name", name, "--epochs", "1", root=root)
    assert_refused(train, f"A run named '{target}' already exists" if target else "Run name")
    assert_refused(run_cli("delete", name, root=root), "No saved run named" if target else "Run name")
    assert sorted(p.name for p in root.iterdir()) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["models"]


def test_a_hostile_name_trains_inside_models(app_server, client) -> None:
    """The one real training here: '../../escape' is saved as models/escape and nowhere else."""
    root = app_server.root
    settings = {"model": str(app_server.tiny), "epochs": 1, "name": "../../escape"}
    job = client.predict(handle_file(str(app_server.small_csv)), settings, api_name="/train")
    assert job["name"] == "escape"
    deadline = time.time() + JOB_TIMEOUT_S
    while (status := client.predict(job["job_id"], api_name="/status"))["state"] == "running":
        assert time.time() < deadline
        time.sleep(0.5)
    assert status["state"] == "done", status
    assert (root / "escape" / store.RUN_JSON).is_file()
    assert not (root.parent / "escape").exists() and not (root.parent.parent / "escape").exists()
    store.delete_run("escape", root)


# --- base models ----------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def remote_code_model(tmp_path_factory) -> tuple[Path, Path]:
    """A model folder whose config asks for custom code, and the marker file that code would write if it ran."""
    folder = tmp_path_factory.mktemp("remote") / "needs-code"
    folder.mkdir()
    marker = folder.parent / "code-ran"
    (folder / "config.json").write_text(
        json.dumps(
            {
                "model_type": "bert",
                "auto_map": {
                    "AutoConfig": "modeling_evil.EvilConfig",
                    "AutoModelForSequenceClassification": "modeling_evil.EvilModel",
                },
            }
        )
    )
    (folder / "modeling_evil.py").write_text(f"open({str(marker)!r}, 'w').write('ran')\n")
    return folder, marker


@pytest.mark.parametrize("kind", ["hub-id", "empty-folder", "remote-code"])
def test_unusable_base_models_through_the_api(kind, app_server, client, remote_code_model, tmp_path) -> None:
    folder, marker = remote_code_model
    (tmp_path / "empty").mkdir()
    model, fragment = {
        "hub-id": ("no-such-org/no-such-model", "'no-such-org/no-such-model'"),
        "empty-folder": (str(tmp_path / "empty"), "has no config.json"),
        "remote-code": (str(folder), "needs custom code"),
    }[kind]
    with pytest.raises(AppError) as err:
        client.predict(
            handle_file(str(app_server.small_csv)), {"model": model, "name": f"base-{kind}"}, api_name="/train"
        )
    assert_app_error(err.value, fragment)
    assert app_server.runner.active_job() is None
    assert not marker.exists(), "the model's custom code ran"
    assert not (app_server.root / f"base-{kind}").exists()


def test_trust_remote_code_is_never_enabled() -> None:
    """Custom model code is refused, never run: trust_remote_code is only ever passed as a literal False."""
    files = [*(REPO / "bertdemo").rglob("*.py"), REPO / "app.py", *(REPO / "bench").glob("*.py")]
    offenders, passed_false = [], 0
    for path in files:
        text = path.read_text(encoding="utf-8")
        for node in ast.walk(ast.parse(text)):
            values = []
            if isinstance(node, ast.keyword) and node.arg == "trust_remote_code":
                values.append(node.value)
            elif isinstance(node, ast.Dict):
                values += [
                    v
                    for k, v in zip(node.keys, node.values, strict=True)
                    if isinstance(k, ast.Constant) and k.value == "trust_remote_code"
                ]
            for value in values:
                if isinstance(value, ast.Constant) and value.value is False:
                    passed_false += 1
                else:
                    offenders.append(f"{path.relative_to(REPO)}:{value.lineno}: {ast.unparse(value)}")
        if re.search(r"trust_remote_code\s*=\s*True", text):
            offenders.append(f"{path.relative_to(REPO)}: trust_remote_code=True")
    assert offenders == []
    assert passed_false >= 1  # the config check passes it explicitly
