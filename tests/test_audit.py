"""The data audit's parts: duplicates and leakage, row numbers through every reader path, the ranking on real text."""

from __future__ import annotations

import csv
import json
import os
import random
from pathlib import Path

import numpy as np
import pytest

from bertdemo.data import audit, duplicates
from bertdemo.data.csvread import read_table
from bertdemo.data.labeled import clip_text, read_labeled_csv
from bertdemo.data.splits import split_data
from bertdemo.runs.records import upgrade_run
from bertdemo.training.auditing import audit_split
from bertdemo.training.baseline import out_of_fold_probabilities
from tests.conftest import SHARED_DATA

BAD = Path(__file__).parent / "data" / "bad"
# The shared sets sit beside the repository; a git worktree elsewhere names them in BERTDEMO_SHARED_DATA.
DATA = Path(os.environ.get("BERTDEMO_SHARED_DATA") or SHARED_DATA)
ACCEPTED = [c["file"] for c in json.loads((BAD / "cases.json").read_text()) if c["expect"] == "accept"]


def test_exact_near_and_conflicting_duplicates_are_counted_with_their_rows() -> None:
    texts = ["Great phone!", "great phone", "Great phone!", "Awful.", "awful", "Fine"]
    labels = ["pos", "pos", "pos", "neg", "pos", "pos"]
    rows = [2, 3, 5, 8, 9, 10]  # file rows: 1, 4, 6 and 7 were dropped while reading
    found = duplicates.find_duplicates(texts, labels, rows)
    assert (found["exact_groups"], found["exact_rows"]) == (1, 1)  # row 5 repeats row 2
    assert found["near_rows"] == 2  # row 3 ("great phone") and row 9 ("awful") once case and "!" are ignored
    assert found["conflict_groups"] == 1 and found["conflict_examples"][0]["rows"] == [8, 9]
    assert duplicates.conflicting_rows(texts, labels, rows) == {3: [(9, "pos")], 4: [(8, "neg")]}


def test_leakage_names_validation_rows_whose_text_is_in_training() -> None:
    leak = duplicates.find_leakage(["A film.", "Bad plot"], [1, 2], ["a  FILM", "New text", "Bad plot"], [7, 8, 9])
    assert (leak["leaked_rows"], leak["exact_rows"], leak["near_rows"]) == (2, 1, 1)
    assert {(e["row"], e["train_row"]) for e in leak["examples"]} == {(7, 1), (9, 2)}
    warning = duplicates.leakage_warning(leak)
    assert "2 of 3 validation rows" in warning and "\n" not in warning
    assert duplicates.leakage_warning(duplicates.find_leakage(["x"], [1], ["y"], [2])) is None


@pytest.mark.parametrize("name", ACCEPTED)
def test_row_numbers_survive_every_encoding_and_delimiter(name: str) -> None:
    """Each kept text is the cell of its numbered data row, whatever the file's encoding, delimiter or gaps."""
    path = BAD / name
    data = read_labeled_csv(path)
    table = read_table(path)
    ti, li = table.columns.index(data.text_column), table.columns.index(data.label_column)
    assert len(data.rows) == len(data.texts) and data.rows == sorted(set(data.rows))
    for text, label, row in zip(data.texts, data.labels, data.rows, strict=True):
        cell = table.rows[row - 1]
        assert clip_text(cell[ti].strip()) == text
        assert " ".join(cell[li].split()).casefold() in {label.casefold(), label.casefold() + ".0"}


def test_rows_keep_their_numbers_through_blank_rows_sampling_and_the_split(tmp_path: Path) -> None:
    path = tmp_path / "gaps.csv"
    lines = ["text,label"] + [f"review number {i},{'pos' if i % 2 else 'neg'}" for i in range(1, 41)]
    lines[5] = ",pos"  # data row 5 has no text: dropped, but row 6 stays row 6
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    data = read_labeled_csv(path, max_rows=30, seed=3)
    assert 5 not in data.rows and len(data.rows) == 30
    split = split_data(data, 0.2, seed=3)
    for texts, rows in ((split.train_texts, split.train_rows), (split.val_texts, split.val_rows)):
        assert all(t == f"review number {r}" for t, r in zip(texts, rows, strict=True))


def _flipped_ag_news(n: int, rate: float, seed: int = 0) -> tuple[list[str], list[str], set[int]]:
    with open(DATA / "ag_news_test.csv", newline="", encoding="utf-8") as fh:
        records = [(r["text"], r["label"]) for r in csv.DictReader(fh)]
    rng = random.Random(seed)
    records = rng.sample(records, n)
    classes = sorted({y for _, y in records})
    flipped = set(rng.sample(range(n), round(rate * n)))
    labels = [rng.choice([c for c in classes if c != y]) if i in flipped else y for i, (_, y) in enumerate(records)]
    return [t for t, _ in records], labels, flipped


@pytest.mark.skipif(not (DATA / "ag_news_test.csv").exists(), reason="shared AG News data not present")
def test_ranking_puts_flipped_rows_of_real_news_first() -> None:
    """600 real AG News rows, 10% of labels flipped: the bag-of-words evidence alone ranks most of them on top."""
    texts, labels, flipped = _flipped_ag_news(600, 0.10)
    classes = sorted(set(labels))
    given = np.array([classes.index(y) for y in labels])
    probs = out_of_fold_probabilities(texts, given.tolist(), len(classes), seed=0)
    signals = audit.AuditSignals(classes, list(range(1, 601)), given, np.zeros(600, bool), tfidf_probs=probs)
    ranked = audit.audit_rows(signals, texts=texts)
    k = len(flipped)
    hits = sum(r["row"] - 1 in flipped for r in ranked[:k])
    assert hits / k >= 0.45, hits  # chance is 0.10
    top = ranked[0]
    assert top["row"] - 1 in flipped and top["suggested_label"] != top["given_label"]
    assert top["text"] == texts[top["row"] - 1] and "bag-of-words says" in top["reason"]


def test_model_evidence_lifts_a_row_the_bag_of_words_misses() -> None:
    """Two views averaged: a row both doubt ranks above rows only one doubts, and every method ranks NaN last."""
    classes = ["a", "b"]
    given = np.array([0, 0, 0, 1])
    tfidf = np.array([[0.9, 0.1], [0.2, 0.8], [0.3, 0.7], [0.5, 0.5]])
    dyn = np.array([[[0.2, 0.8], [0.9, 0.1], [0.1, 0.9], [np.nan, np.nan]]] * 2)  # 2 epochs; row 4 is validation
    val = np.full((4, 2), np.nan)
    val[3] = [0.95, 0.05]
    s = audit.AuditSignals(classes, [1, 2, 3, 4], given, np.array([False, False, False, True]), dyn, val, tfidf)
    assert [r["row"] for r in audit.audit_rows(s)][:2] == [3, 4]  # row 3: both views doubt; row 4: the model does
    assert np.isnan(audit.suspicion(s, "dynamics")[3]) and np.isnan(audit.suspicion(s, "validation")[0])
    assert audit.ranking(audit.suspicion(s, "validation"))[0] == 3
    row4 = next(r for r in audit.audit_rows(s) if r["row"] == 4)
    assert row4["kind"] == "model disagrees" and row4["suggested_label"] == "a"


def test_audit_of_a_split_without_dynamics_uses_what_there_is(tmp_path: Path) -> None:
    path = tmp_path / "d.csv"
    rows = [("great film", "pos"), ("awful film", "neg")] * 12 + [("great film", "neg")]
    path.write_text("text,label\n" + "".join(f"{t},{y}\n" for t, y in rows), encoding="utf-8")
    split = split_data(read_labeled_csv(path), 0.2, seed=0)
    found, ranked = audit_split(split, None, None, seed=0)
    assert found["mislabeled"]["evidence"] == ["out-of-fold bag-of-words probabilities"]
    assert found["leakage"]["leaked_rows"] == found["leakage"]["val_rows"]  # every text repeats: all leak
    assert ranked[0]["row"] == 25 and ranked[0]["kind"] == "conflicting duplicate"
    assert sorted(r["row"] for r in ranked) == list(range(1, 26))


def test_runs_saved_before_audits_still_load() -> None:
    old = {"schema_version": 3, "name": "x", "params": {}, "device": {}}
    assert upgrade_run(old)["audit"] == {"available": False}


def test_the_folds_of_the_same_rows_are_fitted_once(monkeypatch) -> None:
    """The quick run and the final run audit one split: the second asks for the same folds and gets them back
    without fitting again, with the seconds they took; other rows or another seed fit anew, and changing an answer
    leaves the kept one as it was."""
    from bertdemo.training import baseline

    fits = []
    real = baseline._out_of_fold
    monkeypatch.setattr(baseline, "_out_of_fold", lambda *a: fits.append(a[3]) or real(*a))
    texts = [f"good film {i}" for i in range(10)] + [f"bad film {i}" for i in range(10)]
    ids = [0] * 10 + [1] * 10
    first = out_of_fold_probabilities(texts, ids, 2, seed=11)
    first[:] = -1.0  # the caller's copy
    again = out_of_fold_probabilities(texts, ids, 2, seed=11)
    assert len(fits) == 1 and again.shape == (20, 2) and np.allclose(again.sum(axis=1), 1.0)
    assert again[0].argmax() == 0 and again[-1].argmax() == 1
    _, seconds = baseline.out_of_fold_timed(texts, ids, 2, seed=11)  # what the folds cost, remembered with them
    assert len(fits) == 1 and seconds > 0 and baseline.out_of_fold_timed(texts, ids, 2, seed=11)[1] == seconds
    out_of_fold_probabilities(texts, ids, 2, seed=12)
    out_of_fold_probabilities(texts[:-1] + ["good film 99"], ids, 2, seed=11)
    assert fits == [11, 12, 11]
