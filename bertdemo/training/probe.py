"""A linear probe: logistic regression on the frozen encoder's mean-pooled vectors, written into the model's head.

Multinomial logistic regression computes softmax(W x + b): exactly what the classifier's linear layer computes
on the same vector x, so the fitted coefficients become the head, and the probe is an ordinary saved model
(Predict, Export to ONNX, Compare) rather than a side object.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from bertdemo.tokenizing import encode

_EMBED_BATCH = 32


def embed_texts(
    model, tokenizer, texts: list[str], max_length: int, truncation: str = "head", precision: str = "fp32"
) -> np.ndarray:
    """The sentence vectors the head reads (model.embed, eval mode, no gradients), one row per text.

    `precision` "bf16" runs the encoder under CPU bf16 autocast, as training does on a CPU with bf16 units
    (the Trainer scores a bf16 run's validation rows the same way); the vectors come back in fp32.
    """
    model.eval()
    order = np.argsort([len(t) for t in texts])  # similar lengths per batch: less padding
    out = np.zeros((len(texts), model.config.hidden_size), dtype=np.float32)
    bf16 = precision == "bf16" and model.device.type == "cpu"
    with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
        for start in range(0, len(texts), _EMBED_BATCH):
            idx = order[start : start + _EMBED_BATCH]
            batch = encode(
                tokenizer, [texts[i] for i in idx], max_length, truncation, padding=True, return_tensors="pt"
            )
            batch = {
                k: v.to(model.device)
                for k, v in batch.items()
                if k in ("input_ids", "attention_mask", "token_type_ids")
            }
            out[idx] = model.embed(**batch).float().cpu().numpy()
    return out


def fit_head(features: np.ndarray, label_ids: list[int], n_labels: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Logistic regression on the vectors; its (n_labels, dim) weights and (n_labels,) bias as the head's."""
    from sklearn.linear_model import LogisticRegression

    y = np.asarray(label_ids)
    clf = LogisticRegression(max_iter=1000, random_state=seed).fit(features, y)
    weight = np.zeros((n_labels, features.shape[1]), dtype=np.float32)
    # A class with no training row can never be predicted: a bias far below the others' says so.
    bias = np.full(n_labels, -1e4, dtype=np.float32)
    classes = [int(c) for c in clf.classes_]
    if len(classes) == 2:  # sklearn keeps one row (the log-odds of the second class): split it symmetrically
        half_w, half_b = clf.coef_[0] / 2, clf.intercept_[0] / 2
        weight[classes[0]], weight[classes[1]] = -half_w, half_w
        bias[classes[0]], bias[classes[1]] = -half_b, half_b
    else:
        for row, c in enumerate(classes):
            weight[c], bias[c] = clf.coef_[row], clf.intercept_[row]
    return weight, bias


def set_head(model, weight: np.ndarray, bias: np.ndarray) -> None:
    """Write the probe's weights into the model's classifier layer."""
    with torch.no_grad():
        model.classifier.weight.copy_(torch.from_numpy(weight))
        model.classifier.bias.copy_(torch.from_numpy(bias))


def head_logits(features: np.ndarray, weight: np.ndarray, bias: np.ndarray) -> np.ndarray:
    """What the classifier layer answers for these vectors (its forward pass in eval mode)."""
    return features @ weight.T + bias


def sample_rows(label_ids: list[int], cap: int, seed: int) -> list[int]:
    """At most about `cap` row positions, stratified by label, every label kept; all rows when they fit.

    Each label gets its share of `cap` (at least a few rows, or all it has), drawn at random with `seed`:
    a probe on a thousand rows is nearly as good as on all of them, and its time then stops growing with the file.
    """
    if cap <= 0 or len(label_ids) <= cap:
        return list(range(len(label_ids)))
    rng = np.random.default_rng(seed)
    by_label: dict[int, list[int]] = {}
    for i, y in enumerate(label_ids):
        by_label.setdefault(int(y), []).append(i)
    keep: list[int] = []
    for rows in by_label.values():
        quota = min(len(rows), max(_MIN_ROWS_PER_LABEL, math.floor(cap * len(rows) / len(label_ids))))
        keep.extend(rng.choice(rows, size=quota, replace=False).tolist())
    return sorted(keep)


_MIN_ROWS_PER_LABEL = 8  # a rare label still gets enough rows for the probe to learn it


def fit_probe(
    model, tokenizer, train_texts, train_ids, val_texts, n_labels, max_length, truncation, seed,
    precision: str = "fp32",
):  # fmt: skip
    """Embed, fit the head on the training rows, write it into the model; the validation logits it gives."""
    weight, bias = fit_head(
        embed_texts(model, tokenizer, train_texts, max_length, truncation, precision), train_ids, n_labels, seed
    )
    set_head(model, weight, bias)
    return head_logits(embed_texts(model, tokenizer, val_texts, max_length, truncation, precision), weight, bias)
