"""Unit tests of bertdemo.data.splits: stratified splits and a separate validation CSV."""

from __future__ import annotations

from collections import Counter

import pytest

from bertdemo.data.splits import Split, split_data, split_with_validation
from bertdemo.errors import DataError
from tests.helpers import labeled

# --- split_data ---------------------------------------------------------------------------------------------------


def test_split_is_stratified_complete_and_deterministic():
    rows = [(f"{lab}{i}", lab) for lab, n in (("a", 100), ("b", 50), ("c", 10)) for i in range(n)]
    data = labeled(rows)
    split = split_data(data, val_fraction=0.2, seed=3)
    assert isinstance(split, Split) and split.labels == ["a", "b", "c"]
    assert Counter(split.val_labels) == {"a": 20, "b": 10, "c": 2}
    assert sorted(split.train_texts + split.val_texts) == sorted(t for t, _ in rows)
    assert not set(split.train_texts) & set(split.val_texts)
    assert all(
        t in dict(rows) and dict(rows)[t] == lab for t, lab in zip(split.val_texts, split.val_labels, strict=True)
    )
    assert split == split_data(data, val_fraction=0.2, seed=3)
    assert split.val_texts != split_data(data, val_fraction=0.2, seed=4).val_texts


def test_split_rare_class_gets_a_validation_row_and_keeps_a_training_row():
    data = labeled([(f"a{i}", "a") for i in range(1000)] + [("b1", "b"), ("b2", "b")])
    split = split_data(data, val_fraction=0.1)
    assert Counter(split.val_labels)["b"] == 1 and Counter(split.train_labels)["b"] == 1


@pytest.mark.parametrize("fraction", [0, -0.1, 0.51, 1.0])
def test_split_fraction_bounds(fraction):
    with pytest.raises(DataError, match="Validation fraction"):
        split_data(labeled([("a", "x"), ("b", "x"), ("c", "y"), ("d", "y")]), val_fraction=fraction)


def test_split_half():
    split = split_data(labeled([("a", "x"), ("b", "x"), ("c", "y"), ("d", "y")]), val_fraction=0.5)
    assert sorted(split.val_labels) == ["x", "y"] and sorted(split.train_labels) == ["x", "y"]


def test_split_small_class_is_refused_by_name():
    with pytest.raises(DataError) as info:
        split_data(labeled([("a", "x"), ("b", "x"), ("c", "x"), ("d", "rare")]))
    assert str(info.value) == (
        "Class 'rare' has only 1 row; each class needs at least 2 for a train/validation split: "
        "add rows for it or remove that class."
    )


# --- split_with_validation ------------------------------------------------------------------------------------


def test_split_with_validation_subset_and_case():
    train = labeled([("a", "pos"), ("b", "neg"), ("c", "neu")])
    val = labeled([("d", "POS"), ("e", "neg")])
    split = split_with_validation(train, val)
    assert split.labels == ["neg", "neu", "pos"]
    assert split.val_labels == ["pos", "neg"] and split.train_texts == ["a", "b", "c"]


def test_split_with_validation_unknown_label():
    with pytest.raises(DataError) as info:
        split_with_validation(
            labeled([("a", "pos"), ("b", "neg")]), labeled([("c", "meh"), ("d", "meh"), ("e", "pos")])
        )
    message = str(info.value)
    assert "'meh' (2 rows)" in message and "\n" not in message
