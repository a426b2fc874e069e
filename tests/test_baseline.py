"""The bag-of-words baseline: fitted on the same split, scored, and compared in one plain line."""

from __future__ import annotations

from bertdemo.training.baseline import bag_of_words_baseline, verdict


def test_baseline_learns_words_and_reports_scores() -> None:
    good = [f"great product number {i}, really great" for i in range(20)]
    bad = [f"awful product number {i}, truly awful" for i in range(20)]
    b = bag_of_words_baseline(
        good[:15] + bad[:15], ["pos"] * 15 + ["neg"] * 15, good[15:] + bad[15:], ["pos"] * 5 + ["neg"] * 5
    )
    assert b["method"] == "tfidf+logreg" and b["accuracy"] == 1.0 and b["f1_macro"] == 1.0
    assert 0 <= b["seconds"] < 30


def test_baseline_is_near_chance_when_words_carry_no_signal() -> None:
    texts = [f"item {i}" for i in range(40)]
    labels = ["a", "b"] * 20
    b = bag_of_words_baseline(texts[:30], labels[:30], texts[30:], labels[30:])
    assert b["accuracy"] <= 0.7


def test_verdict_says_plainly_when_fine_tuning_lost() -> None:
    assert verdict(0.93, {"accuracy": 0.63}) == "fine-tuned 0.930 vs bag-of-words 0.630 (+30.0 points)"
    lost = verdict(0.80, {"accuracy": 0.85})
    assert lost.startswith("fine-tuned 0.800 vs bag-of-words 0.850") and "did not beat" in lost
    assert verdict(0.9, None) == ""


def test_texts_without_words_give_no_baseline_rather_than_an_error() -> None:
    b = bag_of_words_baseline(["!!!", "???", "...", "!?"], ["a", "b", "a", "b"], ["!!", "?"], ["a", "b"])
    assert b["accuracy"] is None and b["note"]
