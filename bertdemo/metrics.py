"""Classification metrics: Trainer evaluation, final report, export checks, benchmarks (sklearn loaded lazily)."""

from __future__ import annotations

from typing import Any

import numpy as np

from bertdemo import config


def compute_metrics(eval_pred) -> dict[str, float]:
    """Accuracy, macro F1/precision/recall for Trainer evaluation."""
    logits, labels = eval_pred
    return scores(np.asarray(logits).argmax(axis=-1), labels)


def final_report(labels: list[str], y_true: np.ndarray, logits: np.ndarray, texts: list[str]) -> dict[str, Any]:
    """Metrics, per-class scores, confusion matrix and the mistakes for a validation set."""
    from sklearn.metrics import confusion_matrix, precision_recall_fscore_support

    probs = softmax(logits)
    preds = probs.argmax(axis=-1)
    ids = list(range(len(labels)))
    p, r, f, s = precision_recall_fscore_support(y_true, preds, labels=ids, zero_division=0)
    metrics = compute_metrics((logits, y_true))
    metrics["per_class"] = {
        lab: {"precision": float(p[i]), "recall": float(r[i]), "f1": float(f[i]), "support": int(s[i])}
        for i, lab in enumerate(labels)
    }
    wrong = np.flatnonzero(preds != y_true)
    # Most confident mistakes first: the ones a practitioner wants to read.
    wrong = wrong[np.argsort(-probs[wrong, preds[wrong]])][: config.MISTAKES_SHOWN]
    mistakes = [
        {
            "text": texts[i],
            "label": labels[y_true[i]],
            "predicted": labels[preds[i]],
            "confidence": round(float(probs[i, preds[i]]), 4),
        }
        for i in wrong
    ]
    low, high = accuracy_interval(int(np.sum(preds == y_true)), len(y_true))
    metrics["accuracy_interval"] = {"low": low, "high": high, "level": config.ACCURACY_INTERVAL_LEVEL}
    return {
        "metrics": {k: (float(v) if not isinstance(v, dict) else v) for k, v in metrics.items()},
        "confusion_matrix": confusion_matrix(y_true, preds, labels=ids).tolist(),
        "mistakes": mistakes,
    }


def accuracy_interval(correct: int, total: int, level: float = config.ACCURACY_INTERVAL_LEVEL) -> tuple[float, float]:
    """Wilson score interval of an accuracy measured on `total` rows: how sure a small validation set lets us be.

    With 5 validation rows, 4 right reads "0.80" but the 95% interval is 0.38..0.96; the interval says so.
    """
    if total <= 0:
        return 0.0, 1.0
    from scipy.stats import norm

    z = float(norm.ppf(0.5 + level / 2))
    p = correct / total
    centre = (p + z * z / (2 * total)) / (1 + z * z / total)
    half = z * np.sqrt(p * (1 - p) / total + z * z / (4 * total * total)) / (1 + z * z / total)
    return round(float(max(0.0, centre - half)), 4), round(float(min(1.0, centre + half)), 4)


def scores(predicted, gold) -> dict[str, float]:
    """Accuracy and macro F1/precision/recall of predicted labels (ids or names) against gold ones ({} without gold)."""
    if len(gold) == 0:
        return {}
    from sklearn.metrics import accuracy_score, precision_recall_fscore_support

    precision, recall, f1, _ = precision_recall_fscore_support(gold, predicted, average="macro", zero_division=0)
    return {
        "accuracy": float(accuracy_score(gold, predicted)),
        "f1_macro": float(f1),
        "precision_macro": float(precision),
        "recall_macro": float(recall),
    }


def softmax(logits: np.ndarray) -> np.ndarray:
    """Row-wise softmax, shifted by the row maximum so large logits do not overflow."""
    logits = np.asarray(logits)
    z = logits - logits.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)
