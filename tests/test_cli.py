"""The CLI as users run it: a real subprocess, --json last line, exit 2 + one 'error:' line for user errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO
from tests.helpers import make_tiny_model_dir, unlisted_column_csvs, write_csv

ROWS = [
    ("great phone, love it", "positive"),
    ("works perfectly and fast", "positive"),
    ("excellent value for money", "positive"),
    ("really happy with this", "positive"),
    ("broke after a day", "negative"),
    ("terrible support, avoid", "negative"),
    ("waste of money", "negative"),
    ("stopped working quickly", "negative"),
] * 3


def run_cli(*args: str, root: Path, timeout: int = 300) -> subprocess.CompletedProcess:
    env = {**os.environ, "BERTDEMO_MODELS_DIR": str(root)}
    return subprocess.run(
        [sys.executable, "-m", "bertdemo", *args], capture_output=True, text=True, env=env, cwd=REPO, timeout=timeout
    )


def last_json(proc: subprocess.CompletedProcess) -> dict:
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def assert_user_error(proc: subprocess.CompletedProcess, fragment: str) -> None:
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:"), proc.stderr
    assert "Traceback" not in proc.stderr
    assert fragment.lower() in lines[0].lower(), lines[0]


@pytest.fixture(scope="module")
def cli_env(tmp_path_factory):
    base = tmp_path_factory.mktemp("cli")
    root = base / "models"
    root.mkdir()
    csv_path = write_csv(base / "reviews.csv", ROWS)
    model = make_tiny_model_dir(base / "tiny")
    return root, csv_path, model


def test_inspect_json(cli_env) -> None:
    root, csv_path, _ = cli_env
    report = last_json(run_cli("inspect", str(csv_path), "--json", root=root))
    assert report["text_column"] == "text" and report["label_column"] == "label"
    assert report["class_counts"] == {"negative": 12, "positive": 12}
    assert report["token_lengths"]["max"] > 3


def test_train_models_predict_delete(cli_env) -> None:
    root, csv_path, model = cli_env
    out = last_json(
        run_cli(
            "train", str(csv_path), "--model", str(model), "--epochs", "2", "--name", "cli-run", "--json", root=root
        )
    )
    assert out["name"] == "cli-run" and out["labels"] == ["negative", "positive"]
    assert len(out["history"]) == 2 and out["samples_per_second"] > 0 and out["train_seconds"] > 0
    assert set(out["metrics"]) >= {"accuracy", "f1_macro"}
    listed = last_json(run_cli("models", "--json", root=root))["models"]
    assert [m["name"] for m in listed] == ["cli-run"]
    pred = last_json(run_cli("predict", "cli-run", "The battery died after two days.", "--json", root=root))
    (row,) = pred["predictions"]
    assert row["label"] in {"negative", "positive"}
    assert abs(sum(row["probabilities"].values()) - 1) < 1e-5
    # Labeling the training file: the run knows its training texts and scores them apart from the rest.
    labeled = run_cli("predict", "cli-run", "--csv", str(csv_path), "--out", str(root.parent / "o.csv"), root=root)
    assert labeled.returncode == 0, labeled.stderr
    assert "rows the run trained on (not a fair test)" in labeled.stdout
    assert "text(s) of this file" in labeled.stdout
    again = run_cli("train", str(csv_path), "--model", str(model), "--epochs", "1", "--name", "cli-run", root=root)
    assert_user_error(again, "already exists")
    assert last_json(run_cli("delete", "cli-run", "--json", root=root)) == {"deleted": "cli-run"}
    assert last_json(run_cli("models", "--json", root=root))["models"] == []


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["inspect", "does-not-exist.csv"], "not found"),
        (["predict", "no-such-run", "hello"], "No saved run named"),
        (["train", "{csv}", "--model", "no-such-org/no-such-model"], "cannot"),
        (["train", "{csv}", "--model", "/nonexistent/folder"], "not a folder"),
        (["train", "{csv}", "--epochs", "0"], "epochs"),
        (["train", "{csv}", "--name", "../../etc"], ""),  # sanitized, not an error: checked below
        (["delete", "../../etc"], "No saved run named"),
    ],
)
def test_user_errors_exit_2_with_one_line(cli_env, args, fragment) -> None:
    root, csv_path, _ = cli_env
    args = [a.replace("{csv}", str(csv_path)) for a in args]
    if "--name" in args:
        # A hostile name is sanitized into models/ (and here fails fast on the hub model it needs).
        args += ["--model", "/nonexistent/folder"]
        proc = run_cli(*args, root=root)
        assert_user_error(proc, "not a folder")
        assert not (root.parent / "etc").exists()
        return
    assert_user_error(run_cli(*args, root=root), fragment)


def test_inspect_detects_unlisted_column_names(tmp_path) -> None:
    for path, text, label in unlisted_column_csvs(tmp_path).values():
        report = last_json(run_cli("inspect", str(path), "--json", root=tmp_path / "models"))
        assert (report["text_column"], report["label_column"]) == (text, label)
        assert sum(report["class_counts"].values()) == 24


def test_undetectable_columns_name_the_flags_on_the_cli_only(tmp_path) -> None:
    numbers = write_csv(tmp_path / "numbers.csv", [(str(i), str(i * 3)) for i in range(20)], header=("a", "b"))
    proc = run_cli("inspect", str(numbers), root=tmp_path / "models")
    assert_user_error(proc, "holds only numbers, not text: pick the text column. (command line: --text-column)")


def test_compare_one_typed_review_json(tmp_path) -> None:
    """compare --json with one text: warm blocks of COMPARE_BLOCK_CALLS calls, the first call after idle apart."""
    from bertdemo import config
    from bertdemo.onnx.export import export_run
    from tests.helpers import make_tiny_run

    make_tiny_run(tmp_path, "tiny")
    export_run("tiny", root=tmp_path)
    report = last_json(
        run_cli("compare", "tiny", "--text", "one typed review", "--repeats", "2", "--json", root=tmp_path)
    )
    assert list(report["backends"]) == ["pytorch", "onnx"]
    steady = report["measurement"]["steady"]
    assert (
        steady["block_calls"] == config.COMPARE_BLOCK_CALLS
        and steady["samples_per_backend"] == 2 * steady["block_calls"]
    )
    assert report["measurement"]["first_call"]["idle_s"] == config.COMPARE_IDLE_S
    assert all(b["first_call_ms"] > 0 and b["p50_ms"] > 0 for b in report["backends"].values())
