"""The data audit a run makes after training: duplicates, leakage, and its rows ranked by how wrong their label looks.

It puts together what the run already has (the training dynamics, the fine-tuned model's validation
probabilities) with out-of-fold bag-of-words probabilities, and ranks every row with bertdemo.data.audit.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from bertdemo.data import audit, duplicates
from bertdemo.data.splits import Split
from bertdemo.training.baseline import out_of_fold_probabilities, out_of_fold_timed


def split_rows(split: Split) -> tuple[list[str], list[str], list[int]]:
    """Texts, labels and file row numbers of a split, training rows first."""
    n_train, n_val = len(split.train_texts), len(split.val_texts)
    train_rows = split.train_rows if len(split.train_rows) == n_train else list(range(1, n_train + 1))
    val_rows = split.val_rows if len(split.val_rows) == n_val else list(range(1, n_val + 1))
    return split.train_texts + split.val_texts, split.train_labels + split.val_labels, train_rows + val_rows


def split_findings(split: Split) -> dict[str, Any]:
    """Duplicates and leakage of a split (before training; milliseconds)."""
    texts, labels, rows = split_rows(split)
    return duplicates.data_findings(texts, labels, rows, val_start=len(split.train_texts))


def audit_split(
    split: Split,
    dynamics: np.ndarray | None,
    validation_probs: np.ndarray | None,
    seed: int,
    recording_seconds: float = 0.0,
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """(findings for run.json, every row ranked most suspicious first, with its text).

    `dynamics` is (epochs, training rows, classes), `validation_probs` (validation rows, classes); either may be None.
    """
    started = time.perf_counter()
    texts, labels, rows = split_rows(split)
    n_train, n = len(split.train_texts), len(texts)
    classes = list(split.labels)
    label2id = {label: i for i, label in enumerate(classes)}
    given = np.array([label2id[y] for y in labels])
    in_val = np.arange(n) >= n_train
    dyn = None
    if dynamics is not None and len(dynamics):
        dyn = np.full((dynamics.shape[0], n, len(classes)), np.nan, dtype=np.float32)
        dyn[:, :n_train] = dynamics
    val = None
    if validation_probs is not None:
        val = np.full((n, len(classes)), np.nan)
        val[n_train:] = validation_probs
    asked = time.perf_counter()
    tfidf, fitted_s = out_of_fold_timed(texts, given.tolist(), len(classes), seed)
    # What the evidence cost, even when an earlier audit of this split (the quick model's) fitted the folds.
    spent = fitted_s - (time.perf_counter() - asked)
    signals = audit.AuditSignals(classes, rows, given, in_val, dyn, val, tfidf)
    # Rows of a separate validation file are not the uploaded file's rows: conflicts only within one file.
    same_file = n_train if split.val_file else n
    found = duplicates.data_findings(texts, labels, rows, val_start=n_train)
    conflicts = duplicates.conflicting_rows(texts[:same_file], labels[:same_file], rows[:same_file])
    ranked = audit.audit_rows(signals, conflicts, texts=texts)
    summary = audit.summary(ranked, signals)
    summary.update(
        {
            "method": audit.DEFAULT_METHOD,
            "seconds": round(time.perf_counter() - started + max(0.0, spent) + recording_seconds, 2),
            "recording_seconds": round(recording_seconds, 3),
            "validation_file": split.val_file,
        }
    )
    return {**found, "mislabeled": summary}, ranked


def audit_texts(
    texts: list[str], labels: list[str], classes: list[str], mistakes: dict[str, dict[str, Any]], seed: int = 0
) -> list[dict[str, Any]]:
    """Rank rows known only as texts and labels (a run saved before audits: its validation.csv), numbered 1..n.

    `mistakes` (run.json's, by text) gives the fine-tuned model's answer where it was wrong.
    """
    classes = classes or sorted(set(labels))
    label2id = {label: i for i, label in enumerate(classes)}
    keep = [i for i, y in enumerate(labels) if y in label2id]
    texts, labels = [texts[i] for i in keep], [labels[i] for i in keep]
    given = np.array([label2id[y] for y in labels])
    n, c = len(texts), len(classes)
    val = np.full((n, c), np.nan)
    for i, text in enumerate(texts):
        wrong = mistakes.get(text)
        if wrong and wrong.get("predicted") in label2id:
            # Only the predicted class's probability was kept: spread the rest evenly over the others.
            p = float(wrong.get("confidence") or 0.0)
            val[i] = (1 - p) / max(1, c - 1)
            val[i, label2id[wrong["predicted"]]] = p
    tfidf = out_of_fold_probabilities(texts, given.tolist(), c, seed) if len(set(given.tolist())) > 1 else None
    rows = [keep[i] + 1 for i in range(n)]
    signals = audit.AuditSignals(classes, rows, given, np.ones(n, dtype=bool), None, val, tfidf)
    conflicts = duplicates.conflicting_rows(texts, labels, rows)
    return audit.audit_rows(signals, conflicts, texts=texts)
