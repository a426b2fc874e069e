"""bertdemo.runs.access: who sees, uses and deletes which saved run."""

from __future__ import annotations

import json

import pytest

from bertdemo import service
from bertdemo.errors import NotOwner, RunNotFound
from bertdemo.runs import access, store
from tests.helpers import make_tiny_run


def own(root, name: str, secret: str) -> None:
    """Mark a run as trained by this browser/API caller, as the app's training job does."""
    store.update_run(name, {"owner": access.owner_key(secret)}, root)


@pytest.fixture
def runs(models_root):
    make_tiny_run(models_root, "shipped")  # no owner: shared
    make_tiny_run(models_root, "alices")
    own(models_root, "alices", "alice-browser-id")
    return models_root


def test_the_secret_is_never_stored(runs):
    stored = json.loads((runs / "alices" / store.RUN_JSON).read_text())["owner"]
    assert stored != "alice-browser-id" and len(stored) == 64 and access.is_mine(stored, "alice-browser-id")
    assert access.owner_key("") is None and access.owner_key(None) is None


def test_lists_show_own_and_shared_runs_only(runs):
    assert sorted(service.run_names(runs, "alice-browser-id")) == ["alices", "shipped"]
    assert service.run_names(runs, "bob-browser-id") == ["shipped"]
    assert service.run_names(runs) == ["shipped"]  # no owner: what the page shows before it knows the browser
    access_of = {r["name"]: r["access"] for r in service.list_models(runs, "alice-browser-id")}
    assert access_of == {"alices": "yours", "shipped": "shared"}
    assert all("owner" not in r for r in service.list_models(runs, "alice-browser-id"))


def test_only_the_owner_uses_and_deletes_a_private_run(runs):
    for call in (
        lambda: service.predict("alices", "a wonderful film", root=runs, owner="bob-browser-id"),
        lambda: service.load_run("alices", runs, "bob-browser-id"),
        lambda: service.delete_model("alices", runs, "bob-browser-id"),
    ):
        with pytest.raises(NotOwner, match="belongs to another user"):
            call()
    assert service.predict("alices", "a wonderful film", root=runs, owner="alice-browser-id")["label"]
    assert service.delete_model("alices", runs, "alice-browser-id") == {"deleted": "alices"}


def test_shared_runs_are_read_only(runs):
    assert service.predict("shipped", "dull", root=runs, owner="bob-browser-id")["label"]
    for who in (None, "bob-browser-id", "alice-browser-id"):
        with pytest.raises(NotOwner, match="read-only here"):
            service.delete_model("shipped", runs, who)
    assert (runs / "shipped" / store.RUN_JSON).is_file()


def test_unknown_run_lists_only_what_the_caller_sees(runs):
    with pytest.raises(RunNotFound) as err:
        service.predict("nope", "text", root=runs, owner="bob-browser-id")
    assert str(err.value) == "No saved run named 'nope' (saved runs: shipped)."  # alice's run is not named


def test_the_owner_check_sees_a_changed_run_json(runs):
    """The owner is cached by run.json's stat: an atomic rewrite (a new owner) is seen at the next call."""
    assert access.check_visible("alices", "alice-browser-id", runs)
    own(runs, "alices", "bob-browser-id")
    with pytest.raises(NotOwner):
        access.check_visible("alices", "alice-browser-id", runs)
    assert access.check_visible("alices", "bob-browser-id", runs)
    store.delete_run("alices", runs)
    with pytest.raises(RunNotFound):
        access.check_visible("alices", "bob-browser-id", runs)
