"""Exact and near-duplicate texts, duplicates with conflicting labels, and validation rows leaking from training.

Rows are named by their 1-based data row in the uploaded file (header not counted), so a user finds them.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from typing import Any

from bertdemo import config

EXAMPLES = config.AUDIT_EXAMPLES
_PUNCT = re.compile(r"[\W_]+", re.UNICODE)  # anything but letters and digits: punctuation, symbols, spaces


def normalize(text: str) -> str:
    """The text as compared for near-duplicates: NFKC, case-folded, punctuation and runs of spaces as one space."""
    return " ".join(_PUNCT.sub(" ", unicodedata.normalize("NFKC", text).casefold()).split())


def _groups(keys: list[str]) -> list[list[int]]:
    """Positions sharing a key, for keys seen twice or more, in order of first appearance."""
    where: dict[str, list[int]] = defaultdict(list)
    for i, key in enumerate(keys):
        where[key].append(i)
    return [idx for idx in where.values() if len(idx) > 1]


def find_duplicates(texts: list[str], labels: list[str], rows: list[int]) -> dict[str, Any]:
    """Counts and examples of exact duplicates, near duplicates (same normalized text) and label conflicts."""
    exact = _groups(texts)
    near_all = _groups([normalize(t) for t in texts])
    near = [g for g in near_all if len({texts[i] for i in g}) > 1]  # not all the same string
    conflicts = [g for g in near_all if len({labels[i] for i in g}) > 1]

    def example(group: list[int]) -> dict[str, Any]:
        return {
            "rows": [rows[i] for i in group],
            "texts": list(dict.fromkeys(texts[i] for i in group))[:3],
            "labels": [labels[i] for i in group],
        }

    return {
        "exact_groups": len(exact),
        "exact_rows": sum(len(g) - 1 for g in exact),  # rows that repeat an earlier row's text
        "near_groups": len(near),
        # rows repeating an earlier row's normalized text, but not its exact string
        "near_rows": sum(len(g) - 1 for g in near_all) - sum(len(g) - 1 for g in exact),
        "conflict_groups": len(conflicts),
        "conflict_rows": sum(len(g) for g in conflicts),
        "exact_examples": [example(g) for g in exact[:EXAMPLES]],
        "near_examples": [example(g) for g in near[:EXAMPLES]],
        "conflict_examples": [example(g) for g in conflicts[:EXAMPLES]],
    }


def find_leakage(
    train_texts: list[str], train_rows: list[int], val_texts: list[str], val_rows: list[int]
) -> dict[str, Any]:
    """Validation rows whose text (exactly, or once normalized) is also a training row's."""
    exact_train: dict[str, int] = {}
    near_train: dict[str, int] = {}
    for text, row in zip(train_texts, train_rows, strict=True):
        exact_train.setdefault(text, row)
        near_train.setdefault(normalize(text), row)
    exact, near = [], []
    for text, row in zip(val_texts, val_rows, strict=True):
        if text in exact_train:
            exact.append({"row": row, "train_row": exact_train[text], "text": text})
        elif (key := normalize(text)) in near_train:
            near.append({"row": row, "train_row": near_train[key], "text": text})
    leaked = len(exact) + len(near)
    return {
        "val_rows": len(val_texts),
        "leaked_rows": leaked,
        "exact_rows": len(exact),
        "near_rows": len(near),
        "fraction": round(leaked / len(val_texts), 4) if val_texts else 0.0,
        "examples": (exact + near)[:EXAMPLES],
    }


def conflicting_rows(texts: list[str], labels: list[str], rows: list[int]) -> dict[int, list[tuple[int, str]]]:
    """Position -> (row, label) of every other row with the same normalized text and another label."""
    out: dict[int, list[tuple[int, str]]] = {}
    for group in _groups([normalize(t) for t in texts]):
        if len({labels[i] for i in group}) < 2:
            continue
        for i in group:
            out[i] = [(rows[j], labels[j]) for j in group if labels[j] != labels[i]]
    return out


def data_findings(texts: list[str], labels: list[str], rows: list[int], val_start: int | None = None) -> dict[str, Any]:
    """Duplicates over every row and, when rows[val_start:] are the validation rows, leakage from training."""
    found: dict[str, Any] = {"duplicates": find_duplicates(texts, labels, rows)}
    if val_start is not None:
        found["leakage"] = find_leakage(texts[:val_start], rows[:val_start], texts[val_start:], rows[val_start:])
    return found


def leakage_warning(leakage: dict[str, Any] | None) -> str | None:
    """One plain line when validation rows also appear in training, else None."""
    if not leakage or not leakage.get("leaked_rows"):
        return None
    n, total = leakage["leaked_rows"], leakage["val_rows"]
    return (
        f"Validation leaks: {n:,} of {total:,} validation rows ({n / total:.1%}) have the same text as a training "
        "row (ignoring case, spaces and punctuation), so the validation scores look better than the model is: "
        "remove the duplicates and train again."
    )
