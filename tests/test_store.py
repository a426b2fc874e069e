"""The model store: safe names, atomic commit, list/load/delete, sweeping stale staging."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from bertdemo import config
from bertdemo.errors import RunNameError, RunNotFound
from bertdemo.runs import store
from tests.helpers import make_tiny_run


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("my-reviews", "my-reviews"),
        ("../x", "x"),
        ("/etc/passwd", "etc-passwd"),
        ("..\\x", "x"),
        ("a/../../b", "a-b"),
        ("ｍｙ－ｒｕｎ", "my-run"),  # full-width look-alikes fold to ASCII
        ("  spaced name  ", "spaced-name"),
        ("café", "cafe"),
    ],
)
def test_sanitize_keeps_names_inside(raw: str, expected: str) -> None:
    assert store.sanitize_name(raw) == expected


@pytest.mark.parametrize("raw", ["", "   ", "..", "/", "a\x00b", "x" * 65, "✓✓✓"])
def test_sanitize_refuses_unusable_names(raw: str) -> None:
    with pytest.raises(RunNameError) as err:
        store.sanitize_name(raw)
    assert "\n" not in str(err.value)


def test_commit_is_atomic_and_never_overwrites(models_root) -> None:
    make_tiny_run(models_root, "first")
    assert [r["name"] for r in store.list_runs(models_root)] == ["first"]
    with pytest.raises(RunNameError, match="already exists"):
        store.check_new_name("first", models_root)
    staging = store.staging_dir(models_root)
    (staging / "marker").write_text("x")
    with pytest.raises(RunNameError):
        store.commit_run(staging, "first", models_root)
    assert not staging.exists(), "the losing staging folder is removed"
    assert not (models_root / "first" / "marker").exists(), "the existing run is untouched"


def test_staging_is_invisible_until_committed(models_root) -> None:
    staging = store.staging_dir(models_root)
    (staging / store.RUN_JSON).write_text("{}")
    assert store.list_runs(models_root) == []
    with pytest.raises(RunNotFound):
        store.run_dir(staging.name, models_root)


def test_load_update_delete_and_zip(models_root, tmp_path) -> None:
    make_tiny_run(models_root, "r1")
    assert store.load_run("r1", models_root)["labels"] == ["negative", "positive"]
    store.update_run("r1", {"note": "hi"}, models_root)
    assert store.load_run("r1", models_root)["note"] == "hi"
    zipped = store.zip_run("r1", tmp_path, models_root)
    assert zipped.stat().st_size > 1000
    store.delete_run("r1", models_root)
    assert store.list_runs(models_root) == []
    with pytest.raises(RunNotFound, match="No saved run named 'r1'"):
        store.load_run("r1", models_root)


def test_unreadable_run_json_is_skipped(models_root) -> None:
    make_tiny_run(models_root, "good")
    bad = models_root / "bad"
    bad.mkdir()
    (bad / store.RUN_JSON).write_text("{not json")
    assert [r["name"] for r in store.list_runs(models_root)] == ["good"]


def test_sweep_removes_only_dead_owners(models_root) -> None:
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead_pid = int(dead.stdout)
    stale = models_root / f"{config.TMP_PREFIX}{dead_pid}-abc"
    stale.mkdir()
    live = models_root / f"{config.TMP_PREFIX}{os.getppid()}-def"  # our parent is alive
    live.mkdir()
    mine = store.staging_dir(models_root)
    removed = store.sweep_staging(models_root)
    assert stale.name in removed and not stale.exists()
    assert live.exists() and mine.exists()


def test_a_run_folder_that_is_a_link_out_of_models_is_refused(models_root, tmp_path) -> None:
    """run_dir takes no realpath of models/ on every call (cached), so the run folder itself is checked for links."""
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    make_tiny_run(outside, "secret")
    (models_root / "leak").symlink_to(outside / "secret", target_is_directory=True)
    with pytest.raises(RunNameError, match="points outside"):
        store.run_dir("leak", models_root)
    make_tiny_run(models_root, "real")
    (models_root / "alias").symlink_to(models_root / "real", target_is_directory=True)
    assert store.run_dir("alias", models_root) == (models_root / "real").resolve()
    assert store.run_dir("real", models_root) == (models_root / "real").resolve()
    with pytest.raises(RunNotFound):
        store.run_dir("missing", models_root)
