"""Which rows' labels look wrong: one ranking from a run's own evidence (numpy only, no torch).

Evidence per row, each as class probabilities (the score uses the given label's):
  * training dynamics ("Dataset Cartography", Swayamdipta et al. 2020): a training row's probabilities in each
    epoch's training pass; their mean over epochs (confidence) and spread (variability);
  * the fine-tuned model on validation rows (out of sample);
  * a TF-IDF + logistic regression model's out-of-fold probabilities on every row (confident learning,
    Northcutt et al. 2021).
bench/audit_bench.py measures every method below on flipped labels; DEFAULT_METHOD is the best of them.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np

# Score of a row under each method: higher = label more likely wrong.
METHODS = ("combined", "model", "dynamics", "validation", "tfidf")
DEFAULT_METHOD = "combined"
# Why a row is listed, for filtering (the first that applies, in this order).
KINDS = ("conflicting duplicate", "model disagrees", "hard to learn", "bag-of-words disagrees", "low confidence")


@dataclass
class AuditSignals:
    """What a run knows about each row it used (n rows, C classes); NaN where a signal does not cover a row."""

    classes: list[str]
    rows: list[int]  # 1-based data row of the uploaded file (header not counted)
    given: np.ndarray  # (n,) class id of each row's label
    in_validation: np.ndarray  # (n,) bool
    dynamics: np.ndarray | None = None  # (epochs, n, C): training-pass probabilities, NaN for validation rows
    validation_probs: np.ndarray | None = None  # (n, C): the fine-tuned model on validation rows, NaN elsewhere
    tfidf_probs: np.ndarray | None = None  # (n, C): out-of-fold TF-IDF + logistic regression

    @property
    def epochs(self) -> int:
        return 0 if self.dynamics is None else int(self.dynamics.shape[0])


def _nanmean(stack: np.ndarray, axis: int) -> np.ndarray:
    with warnings.catch_warnings():  # a row no view covers is NaN on purpose, not worth a warning
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmean(stack, axis=axis)


def _nanstd(stack: np.ndarray, axis: int) -> np.ndarray:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanstd(stack, axis=axis)


def _empty(s: AuditSignals) -> np.ndarray:
    return np.full((len(s.given), len(s.classes)), np.nan)


def _at_given(probs: np.ndarray, given: np.ndarray) -> np.ndarray:
    return probs[np.arange(len(given)), given]


def model_probs(s: AuditSignals) -> np.ndarray:
    """The fine-tuned model's view of each row: mean training-pass probabilities, or its validation probabilities."""
    dyn = _nanmean(s.dynamics, 0) if s.epochs else _empty(s)
    val = s.validation_probs if s.validation_probs is not None else _empty(s)
    return np.where(s.in_validation[:, None], val, dyn)


def combined_probs(s: AuditSignals) -> np.ndarray:
    """The fine-tuned model's and the bag-of-words model's probabilities averaged (either alone where one lacks)."""
    views = [model_probs(s), s.tfidf_probs if s.tfidf_probs is not None else _empty(s)]
    return _nanmean(np.stack(views), 0)


def suspicion(s: AuditSignals, method: str = DEFAULT_METHOD) -> np.ndarray:
    """Each row's score under one method (higher = label more likely wrong); NaN where the method has no evidence."""
    if method == "combined":
        return 1 - _at_given(combined_probs(s), s.given)
    if method == "tfidf":
        return 1 - _at_given(s.tfidf_probs if s.tfidf_probs is not None else _empty(s), s.given)
    model = 1 - _at_given(model_probs(s), s.given)
    if method == "model":
        return model
    if method == "dynamics":
        return np.where(s.in_validation, np.nan, model)
    if method == "validation":
        return np.where(s.in_validation, model, np.nan)
    raise ValueError(f"unknown audit method {method!r}; known: {', '.join(METHODS)}")


def ranking(score: np.ndarray) -> np.ndarray:
    """Row positions, most suspicious first; rows without evidence last; file order on ties."""
    return np.argsort(-np.where(np.isnan(score), -np.inf, score), kind="stable")


def audit_rows(
    s: AuditSignals,
    conflicts: dict[int, list[tuple[int, str]]] | None = None,
    method: str = DEFAULT_METHOD,
    texts: list[str] | None = None,
) -> list[dict[str, Any]]:
    """Every row, most suspicious first: row, given and suggested label, score, kind, reason, and its evidence.

    `conflicts` maps a row position to the (row, label) pairs of its near-duplicates labeled otherwise.
    """
    conflicts = conflicts or {}
    score = suspicion(s, method)
    combined, model = combined_probs(s), model_probs(s)
    # The likeliest class by both models; the given label itself where they lean to it (nothing to change).
    likeliest = np.where(np.isnan(combined), -1.0, combined)
    likeliest[np.arange(len(s.given)), s.given] += 1e-9  # a tie keeps the given label
    suggested = likeliest.argmax(axis=1)
    confidence = _at_given(model, s.given)
    variability = (
        _nanstd(s.dynamics[:, np.arange(len(s.given)), s.given], 0) if s.epochs else np.full(len(s.given), np.nan)
    )
    tfidf = s.tfidf_probs
    out = []
    for i in ranking(score):
        kind, reason = _why(s, int(i), model, tfidf, confidence[i], variability[i], conflicts.get(int(i)))
        out.append(
            {
                "row": int(s.rows[i]),
                **({"text": texts[i]} if texts is not None else {}),
                "split": "validation" if s.in_validation[i] else "train",
                "given_label": s.classes[int(s.given[i])],
                "suggested_label": s.classes[int(suggested[i])],
                "score": _round(score[i]),
                "kind": kind,
                "reason": reason,
                "confidence": _round(confidence[i]),
                "variability": _round(variability[i]),
                "tfidf": _round(tfidf[i, s.given[i]]) if tfidf is not None else None,
            }
        )
    return out


def _round(value: float) -> float | None:
    return None if value is None or np.isnan(value) else round(float(value), 4)


def _why(s, i, model, tfidf, confidence, variability, conflict) -> tuple[str, str]:
    """The row's kind (for filtering) and a short reason naming the evidence."""
    parts: list[tuple[str, str]] = []
    if conflict:
        row, label = conflict[0]
        parts.append(("conflicting duplicate", f"same text labeled {label!r} in row {row}"))
    if not np.isnan(confidence):
        best = int(np.nanargmax(model[i]))
        if s.in_validation[i]:
            if best != s.given[i]:
                parts.append(("model disagrees", f"model says {s.classes[best]!r} ({model[i, best]:.2f})"))
        elif confidence < 0.5:
            spread = f" ± {variability:.2f}" if not np.isnan(variability) else ""
            parts.append(("hard to learn", f"model gave its label p {confidence:.2f}{spread} over {s.epochs} epoch(s)"))
    if tfidf is not None and not np.isnan(tfidf[i]).all():
        best = int(np.nanargmax(tfidf[i]))
        if best != s.given[i]:
            parts.append(("bag-of-words disagrees", f"bag-of-words says {s.classes[best]!r} ({tfidf[i, best]:.2f})"))
    if not parts:
        return "low confidence", "both models lean to its label"
    parts.sort(key=lambda p: KINDS.index(p[0]))
    return parts[0][0], "; ".join(text for _, text in parts)


def is_flagged(row: dict[str, Any]) -> bool:
    """Suspicious: the two models together put another class first (the row's suggested label is not its label).

    The one rule behind the counts, the rows the UI lists and "accept every suggestion shown".
    """
    return row.get("score") is not None and row.get("suggested_label") != row.get("given_label")


def summary(rows: list[dict[str, Any]], s: AuditSignals) -> dict[str, Any]:
    """Counts for run.json and the model card: rows audited, suspicious ones (is_flagged) by kind, evidence used."""
    flagged = [r for r in rows if is_flagged(r)]
    by_kind: dict[str, int] = {}
    for r in flagged:
        by_kind[r["kind"]] = by_kind.get(r["kind"], 0) + 1
    return {
        "rows": len(rows),
        "suspicious": len(flagged),
        "by_kind": by_kind,
        "evidence": evidence(s),
        "dynamics_epochs": s.epochs,
    }


def evidence(s: AuditSignals) -> list[str]:
    """What the ranking used, in words."""
    used = []
    if s.epochs:
        used.append(f"training dynamics ({s.epochs} epoch(s))")
    if s.validation_probs is not None:
        used.append("the fine-tuned model on validation rows")
    if s.tfidf_probs is not None:
        used.append("out-of-fold bag-of-words probabilities")
    return used
