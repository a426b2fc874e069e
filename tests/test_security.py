"""Attacks on a public Space, against the live app through gradio_client: none of them may work (issue 19).

Two API callers with different owner tokens (the victim, the thief) and a shared run written the way the command
line writes it (no owner). Every attack is cheap: it must be refused before any training starts.
"""

from __future__ import annotations

import os
import threading

import pytest
from gradio_client import handle_file
from gradio_client.exceptions import AppError

from bertdemo import config
from bertdemo.runs import access, store
from tests.conftest import api_client
from tests.helpers import make_tiny_run

pytestmark = pytest.mark.filterwarnings("ignore:'HTTP_422_UNPROCESSABLE_ENTITY' is deprecated")

VICTIM, SHARED, BROKEN = "victim-run", "shipped-run", "broken-run"
VICTIM_TOKEN, THIEF_TOKEN = "victim-secret-token-0123456789", "thief-secret-token-9876543210"


@pytest.fixture(scope="module")
def space(app_server):
    """The live app with a private run of the victim, a shared (command-line) run exported to int8, a broken run."""
    from bertdemo.onnx.export import export_run

    make_tiny_run(app_server.root, VICTIM)
    store.update_run(VICTIM, {access.OWNER_FIELD: access.owner_key(VICTIM_TOKEN)}, app_server.root)
    make_tiny_run(app_server.root, SHARED)  # no owner: what `python -m bertdemo train` writes
    export_run(SHARED, quantize=True, root=app_server.root)
    make_tiny_run(app_server.root, BROKEN)
    (app_server.root / BROKEN / store.RUN_JSON).write_text("{ not json", encoding="utf-8")
    return app_server


@pytest.fixture(scope="module")
def thief(space):
    return api_client(space.url)


def refusal(client, *args, api_name: str) -> str:
    """The one-line message an endpoint refuses a call with."""
    with pytest.raises(AppError) as err:
        client.predict(*args, api_name=api_name)
    message = str(err.value)
    assert message and "\n" not in message and "Traceback" not in message, (api_name, message)
    assert "upstream Gradio app" not in message, (api_name, args, message)  # a crash, not a refusal
    return message


def masked(message: str, *values: str) -> str:
    """message with the values the caller typed replaced: what is left must not depend on the server's files."""
    for value in values:
        message = message.replace(repr(value), "<value>").replace(value, "<value>")
    return message


# --- 1. another caller's private run is not a base model; the server's folders cannot be probed -----------------


def test_a_private_run_cannot_be_copied_as_a_base_model(space, thief) -> None:
    csv = handle_file(str(space.small_csv))
    victim_dir = space.root / VICTIM
    for model in (str(victim_dir), os.path.relpath(victim_dir), f"{space.root}/../models/{VICTIM}", str(space.root)):
        refusal(thief, csv, {"model": model, "epochs": 1, "owner_token": THIEF_TOKEN}, api_name="/train")
    assert space.runner.active_job() is None  # nothing started: no copy of the victim's weights


def test_server_folders_cannot_be_probed_through_the_base_model(space, thief, tmp_path) -> None:
    """A folder that exists and one that does not get the same answer (only the value typed differs)."""
    csv = handle_file(str(space.small_csv))
    real_model = space.tiny.parent  # a real folder (its child is a model) the operator did not list
    pairs = [
        ("/etc", "/etc-no-such-folder"),
        ("/etc/passwd", "/etc/no-such-file"),
        (str(real_model), str(real_model) + "-missing"),
        (str(space.root / VICTIM), str(space.root / "no-such-run")),
        ("~", "~no-such-user"),
        ("../..", "../../no-such-folder"),
        ("tests", "tests-no-such-folder"),  # a Hub-shaped id that is also a folder of the app
        ("bertdemo/ui", "bertdemo/no-such-module"),
    ]
    for there, missing in pairs:
        a = refusal(thief, csv, {"model": there}, api_name="/train")
        b = refusal(thief, csv, {"model": missing}, api_name="/train")
        assert masked(a, there) == masked(b, missing), (there, a, b)
        assert "config.json" not in a and "not a folder" not in a
    assert space.runner.active_job() is None


# --- 2. another caller's run: every endpoint answers as for a run that does not exist ---------------------------


def test_another_callers_run_looks_like_no_run_at_all(space, thief, tmp_path) -> None:
    from tests.helpers import write_csv

    csv = handle_file(str(write_csv(tmp_path / "label-me.csv", [("a fine phone", "positive")] * 3)))
    calls = {
        "/predict": lambda run, token: (run, "a wonderful film", "pytorch", token),
        "/explain": lambda run, token: (run, "a wonderful film", "", token),
        "/export": lambda run, token: (run, False, False, token),
        "/compare": lambda run, token: (run, ["a wonderful film"], token),
        "/delete": lambda run, token: (run, token),
        "/predict_file": lambda run, token: (csv, run, "", "", "", token),
    }
    for api_name, args in calls.items():
        for token in (THIEF_TOKEN, ""):
            taken = refusal(thief, *args(VICTIM, token), api_name=api_name)
            missing = refusal(thief, *args("no-such-run", token), api_name=api_name)
            assert masked(taken, VICTIM) == masked(missing, "no-such-run"), (api_name, taken, missing)
            assert VICTIM not in taken.replace(repr(VICTIM), "")  # not named in "saved runs: ..." either
    assert (space.root / VICTIM / store.RUN_JSON).is_file()
    mine = api_client(space.url)
    assert {"name": VICTIM, "access": "yours"}.items() <= {
        r["name"]: r for r in mine.predict(VICTIM_TOKEN, api_name="/models")
    }[VICTIM].items()
    assert VICTIM not in {r["name"] for r in thief.predict(THIEF_TOKEN, api_name="/models")}


# --- 3. shared runs are read-only ---------------------------------------------------------------------------------


def test_a_shared_run_cannot_be_exported_over(space, thief) -> None:
    onnx_dir = space.root / SHARED / config.ONNX_SUBDIR
    before = {p.name: p.stat().st_ino for p in onnx_dir.iterdir()}
    assert config.ONNX_FILES["onnx-int8"] in before
    for args in ((SHARED, False, False, ""), (SHARED, False, False, THIEF_TOKEN), (SHARED, True, True, THIEF_TOKEN)):
        message = refusal(thief, *args, api_name="/export")
        assert "read-only" in message, message
    assert {p.name: p.stat().st_ino for p in onnx_dir.iterdir()} == before  # the int8 every visitor uses is there
    assert thief.predict(SHARED, "a wonderful film", "onnx-int8", api_name="/predict")["label"]
    assert "read-only" in refusal(thief, SHARED, THIEF_TOKEN, api_name="/delete")


# --- 4. bad values are one-line refusals, not crashes ----------------------------------------------------------------


def test_settings_that_are_not_a_dict_are_refused_in_one_line(space, thief) -> None:
    csv = handle_file(str(space.small_csv))
    for settings in ([1, 2], "epochs=1", 3):
        assert "settings" in refusal(thief, csv, settings, api_name="/train").lower()


def test_a_negative_seed_is_refused_at_once(space, thief) -> None:
    csv = handle_file(str(space.small_csv))
    for seed in (-1, 2**40):
        message = refusal(thief, csv, {"model": str(space.tiny), "seed": seed, "epochs": 1}, api_name="/train")
        assert "seed" in message, message
    assert space.runner.active_job() is None


def test_a_damaged_run_json_is_a_one_line_answer(space, thief) -> None:
    for args, api_name in (
        ((BROKEN, "a wonderful film", "pytorch", ""), "/predict"),
        ((BROKEN, ""), "/delete"),
        ((BROKEN, False, False, ""), "/export"),
        ((BROKEN, "a film", "", ""), "/explain"),
    ):
        refusal(thief, *args, api_name=api_name)
    assert BROKEN not in {r["name"] for r in thief.predict(api_name="/models")}  # the list skips it


def delete_twice_at_once(url: str, name: str, token: str) -> list:
    """Two callers delete one run at the same moment; their answers (a dict, or the refusal's message)."""
    clients = [api_client(url) for _ in range(2)]
    answers: list = [None, None]
    barrier = threading.Barrier(2)

    def delete(k: int) -> None:
        barrier.wait()
        try:
            answers[k] = clients[k].predict(name, token, api_name="/delete")
        except AppError as exc:
            answers[k] = str(exc)

    threads = [threading.Thread(target=delete, args=(k,)) for k in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return answers


def test_two_deletes_of_one_run_at_once(space) -> None:
    """Both answers are one line: one deletes, the other finds no run (never a FileNotFoundError)."""
    for i in range(3):
        name = f"twice-{i}"
        make_tiny_run(space.root, name)
        store.update_run(name, {access.OWNER_FIELD: access.owner_key(VICTIM_TOKEN)}, space.root)
        answers = delete_twice_at_once(space.url, name, VICTIM_TOKEN)
        assert {"deleted": name} in answers, answers
        other = answers[1 - answers.index({"deleted": name})]
        assert other == {"deleted": name} or str(other).startswith("No saved run"), answers
        assert not (space.root / name).exists()


# --- 5. who may start a training, and what a busy app says ------------------------------------------------------


def test_a_training_without_an_owner_is_refused(space) -> None:
    """The page before it has its browser id: no run may be owned by a name every caller can pass."""
    from bertdemo import service
    from bertdemo.errors import BertDemoError

    for owner in ("", None, "   "):
        with pytest.raises(BertDemoError, match="reload"):
            service.start_training(space.runner, str(space.small_csv), {"model": str(space.tiny)}, owner)
    assert space.runner.active_job() is None


def test_busy_names_no_other_callers_run(space) -> None:
    victim, thief = api_client(space.url), api_client(space.url)
    csv = handle_file(str(space.small_csv))
    secret_name = "victims-secret-project"
    settings = {"model": str(space.tiny), "epochs": 100, "batch_size": 1, "name": secret_name}
    job = victim.predict(csv, {**settings, "owner_token": VICTIM_TOKEN}, api_name="/train")
    try:
        message = refusal(thief, csv, {"model": str(space.tiny), "owner_token": THIEF_TOKEN}, api_name="/train")
        assert message.startswith("Busy:") and secret_name not in message, message
        mine = refusal(victim, csv, {"model": str(space.tiny), "owner_token": VICTIM_TOKEN}, api_name="/train")
        assert secret_name in mine  # the caller's own job is named to them
    finally:
        victim.predict(job["job_id"], api_name="/stop")
        space.runner.wait(job["job_id"], timeout=300)
    assert not (space.root / secret_name).exists()
