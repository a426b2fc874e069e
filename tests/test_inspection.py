"""Unit tests of bertdemo.training.inspection: the data report and token lengths."""

from __future__ import annotations

import json

import pytest

from bertdemo.errors import DataError
from bertdemo.training.inspection import inspect_csv, token_length_stats
from tests.helpers import ROWS, csv_text, write_text

# --- inspect_csv and token lengths ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tokenizer():
    from transformers import AutoTokenizer

    from bertdemo.tokenizing import bundled_model_path

    return AutoTokenizer.from_pretrained(bundled_model_path())


def test_inspect_csv_report(tmp_path, tokenizer):
    rows = ROWS + [("long " * 300, "positive")]
    report = inspect_csv(write_text(tmp_path, csv_text(rows, delimiter=";")), tokenizer=tokenizer)
    json.dumps(report)  # JSON-able
    assert report["rows"] == report["rows_read"] == len(rows)
    assert report["delimiter"] == ";" and report["encoding"] == "utf-8"
    assert report["class_counts"] == {"negative": 3, "positive": 4}
    assert (report["text_column"], report["label_column"]) == ("text", "label")
    lengths = report["token_lengths"]
    assert set(lengths) >= {"p50", "p90", "p95", "p99", "max", "over_max_length"}
    assert lengths["over_max_length"] == 1 and lengths["max"] > 300
    assert lengths["p50"] <= lengths["p90"] <= lengths["p95"] <= lengths["p99"] <= lengths["max"]
    # The auto max length covers the long text up to the CPU cap; the warning names that length.
    assert "256" in report["auto_settings"]["max_length"] and lengths["max_length"] == 256
    assert any("longer than 256 tokens (the auto max length)" in w for w in report["warnings"])
    assert report["baseline"]["method"] == "tfidf+logreg" and "epochs" in report["auto_settings"]


def test_inspect_csv_without_tokenizer(tmp_path):
    report = inspect_csv(write_text(tmp_path, csv_text(ROWS)))
    assert "token_lengths" not in report and report["rows"] == len(ROWS)


def test_token_length_stats(tokenizer):
    stats = token_length_stats(["one", "two words", "a " * 200], tokenizer, max_length=10)
    assert stats["max"] == 202 and stats["over_max_length"] == 1 and stats["p50"] == 4
    assert token_length_stats([], tokenizer)["max"] == 0


def test_inspect_refuses_what_training_would_refuse_before_loading_a_tokenizer(tmp_path):
    loads = []
    rows = ROWS + [("A lone neutral remark.", "neutral")]
    with pytest.raises(DataError, match="Class 'neutral' has only 1 row"):
        inspect_csv(write_text(tmp_path, csv_text(rows)), tokenizer=lambda: loads.append(1))
    assert loads == []  # the bad file is refused before the (slow) tokenizer loader runs


def test_inspect_calls_a_tokenizer_loader_once_the_file_is_good(tmp_path, tokenizer):
    loads = []

    def loader():
        loads.append(1)
        return tokenizer

    report = inspect_csv(write_text(tmp_path, csv_text(ROWS)), tokenizer=loader)
    assert loads == [1] and report["token_lengths"]["max"] > 0
