"""Train/validation splits: stratified from one CSV, or a separate validation CSV."""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from bertdemo import config
from bertdemo.data.csvread import show, show_list
from bertdemo.data.labeled import LabeledData, check_two_classes
from bertdemo.errors import DataError


@dataclass
class Split:
    """Train and validation rows; `labels` are the sorted class names (index = class id)."""

    train_texts: list[str]
    train_labels: list[str]
    val_texts: list[str]
    val_labels: list[str]
    labels: list[str]
    # Each row's 1-based data row in its file (LabeledData.rows), for the data audit; empty when unknown.
    train_rows: list[int] = field(default_factory=list)
    val_rows: list[int] = field(default_factory=list)
    val_file: str | None = None  # the validation rows' file, when not the training file


def split_data(
    data: LabeledData, val_fraction: float = config.DEFAULT_VAL_FRACTION, seed: int = config.DEFAULT_SEED
) -> Split:
    """Stratified train/validation split; every class gets at least one row on each side.

    Done per class rather than with sklearn's train_test_split(stratify=...): its rounding can leave a
    rare class out of validation entirely, and per-class metrics then break.
    """
    if not 0 < val_fraction <= 0.5:
        raise DataError(f"Validation fraction must be above 0 and at most 0.5 (got {val_fraction}): try 0.2.")
    by_class: dict[str, list[int]] = defaultdict(list)
    for i, label in enumerate(data.labels):
        by_class[label].append(i)
    check_class_sizes({label: len(idx) for label, idx in by_class.items()})
    rng = random.Random(int(seed))
    train_idx: list[int] = []
    val_idx: list[int] = []
    for label in sorted(by_class):
        idx = by_class[label]
        rng.shuffle(idx)
        n_val = min(len(idx) - 1, max(1, int(len(idx) * val_fraction + 0.5)))
        val_idx += idx[:n_val]
        train_idx += idx[n_val:]
    rng.shuffle(train_idx)
    rng.shuffle(val_idx)
    numbers = data.row_numbers()
    return Split(
        train_texts=[data.texts[i] for i in train_idx],
        train_labels=[data.labels[i] for i in train_idx],
        val_texts=[data.texts[i] for i in val_idx],
        val_labels=[data.labels[i] for i in val_idx],
        labels=sorted(by_class),
        train_rows=[numbers[i] for i in train_idx],
        val_rows=[numbers[i] for i in val_idx],
    )


def check_class_sizes(counts: dict[str, int]) -> None:
    """Refuse fewer than two classes, or a class too small to appear in both train and validation."""
    if len(counts) < 2:
        check_two_classes(list(counts))
    need = config.MIN_ROWS_PER_CLASS
    small = sorted((n, label) for label, n in counts.items() if n < need)
    if len(small) == 1:
        n, label = small[0]
        raise DataError(
            f"Class {show(label)} has only {n} row{'s' if n != 1 else ''}; each class needs at least {need} "
            "for a train/validation split: add rows for it or remove that class."
        )
    if small:
        examples = ", ".join(f"{show(label)}: {n}" for n, label in small[:3])
        raise DataError(
            f"{len(small):,} classes have fewer than {need} rows (e.g. {examples}): "
            "add rows for them or remove those classes (is the label column right?)."
        )


def split_with_validation(train: LabeledData, val: LabeledData) -> Split:
    """Use a separate validation CSV; its labels must be among the training labels (case-insensitive)."""
    known = sorted(set(train.labels))
    by_fold = {label.casefold(): label for label in known}
    val_labels = [label if label in known else by_fold.get(label.casefold(), label) for label in val.labels]
    unknown = Counter(label for label in val_labels if label not in by_fold.values())
    if unknown:
        listed = ", ".join(f"{show(label)} ({n} row{'s' if n != 1 else ''})" for label, n in unknown.most_common(3))
        more = f" and {len(unknown) - 3} more" if len(unknown) > 3 else ""
        raise DataError(
            f"The validation CSV has labels that the training CSV lacks: {listed}{more}. "
            f"Training labels are {show_list(known, 8)}: fix those rows or remove them."
        )
    return Split(
        list(train.texts),
        list(train.labels),
        list(val.texts),
        val_labels,
        known,
        train_rows=train.row_numbers(),
        val_rows=val.row_numbers(),
        val_file=val.source,
    )
