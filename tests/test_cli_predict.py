"""`predict --csv` and `explain` as users run them: a real subprocess, --json last line, exit 2 on user errors."""

from __future__ import annotations

import csv

import pytest

from tests.helpers import make_tiny_run, write_csv
from tests.test_cli import assert_user_error, last_json, run_cli


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    base = tmp_path_factory.mktemp("cli-predict")
    root = base / "models"
    root.mkdir()
    make_tiny_run(root, "tiny")
    rows = [("a wonderful, moving film", "positive"), ("", "negative"), ("dull and far too long", "negative")] * 3
    return root, write_csv(base / "in.csv", rows, header=("review", "sentiment")), base


def test_predict_csv_json(env):
    root, src, base = env
    out = base / "out.csv"
    report = last_json(run_cli("predict", "tiny", "--csv", str(src), "--out", str(out), "--json", root=root))
    assert report["backend"] == "pytorch"  # nothing exported: the fastest passed variant is PyTorch
    assert (report["rows"], report["predicted"], report["skipped"]) == (9, 6, 3)
    assert report["text_column"] == "review" and report["metrics"]["scored_rows"] == 6
    with open(out, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 9 and list(rows[0])[2:] == ["predicted_label", "prob_negative", "prob_positive"]
    assert rows[0]["predicted_label"] in {"negative", "positive"} and rows[1]["predicted_label"] == ""


def test_predict_texts_still_works_and_csv_prints_a_summary(env):
    root, src, base = env
    report = last_json(run_cli("predict", "tiny", "great film", "--json", root=root))
    assert report["backend"] == "pytorch" and report["predictions"][0]["text"] == "great film"
    proc = run_cli("predict", "tiny", "--csv", str(src), "--out", str(base / "o2.csv"), root=root)
    assert proc.returncode == 0, proc.stderr
    assert "6 of 9 rows predicted with pytorch" in proc.stdout and "accuracy" in proc.stdout


def test_explain_json(env):
    root, _, _ = env
    report = last_json(run_cli("explain", "tiny", "An unbelievably moving story", "--json", root=root))
    assert report["label"] in {"negative", "positive"} and report["target"] == report["label"]
    assert [t for t, _ in report["tokens"]][:3] == ["an", "un", "##bel"]
    assert all(isinstance(s, float) for _, s in report["tokens"]) and "segments" not in report
    assert [w for w, _ in report["words"]] == ["An", "unbelievably", "moving", "story"]


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["predict", "tiny"], "Nothing to classify"),
        (["predict", "tiny", "--csv", "{src}"], "--out"),
        (["predict", "tiny", "--csv", "{src}", "--out", "{src}"], "never overwritten"),
        (["predict", "tiny", "text", "--out", "x.csv"], "--out goes with --csv"),
        (["predict", "tiny", "--csv", "/nonexistent.csv", "--out", "x.csv"], "File not found"),
        (["explain", "tiny", "  "], "Type a text"),
        (["explain", "tiny", "ok", "--target", "neutral"], "Unknown class"),
        (["explain", "nope", "ok"], "No saved run named"),
    ],
)
def test_user_errors_exit_2(env, args, fragment):
    root, src, _ = env
    assert_user_error(run_cli(*[a.replace("{src}", str(src)) for a in args], root=root), fragment)
