"""What bertdemo makes of a CSV before training: columns, classes, notes, warnings and token lengths."""

from __future__ import annotations

import math
import random
from pathlib import Path

from bertdemo import config
from bertdemo.data.duplicates import leakage_warning
from bertdemo.data.labeled import read_labeled_csv
from bertdemo.data.splits import check_class_sizes, split_data
from bertdemo.training.auditing import split_findings
from bertdemo.training.hyperparameters import TrainConfig, choose_hyperparameters


def inspect_csv(
    path: str | Path,
    text_column: str | None = None,
    label_column: str | None = None,
    max_rows: int | None = config.DEFAULT_MAX_ROWS,
    tokenizer=None,
) -> dict:
    """A JSON-able report of what read_labeled_csv makes of a file (plus token lengths with a tokenizer).

    A file that training would refuse (a class too small to split) raises the same DataError here.
    `tokenizer` may also be a zero-argument loader: it is then called only once the file
    has been read, so a bad file is refused without waiting for transformers to load.
    """
    data = read_labeled_csv(path, text_column, label_column, max_rows)
    check_class_sizes(data.class_counts())  # what training would refuse, inspection refuses too
    if callable(tokenizer) and not hasattr(tokenizer, "encode"):
        tokenizer = tokenizer()
    report = {
        "source": data.source,
        "rows_read": data.rows_read,
        "rows": len(data.texts),
        "columns": data.columns,
        "text_column": data.text_column,
        "label_column": data.label_column,
        "encoding": data.encoding,
        "delimiter": data.delimiter,
        "class_counts": data.class_counts(),
        "dropped": data.dropped,
        "duplicates": data.duplicates,
        "notes": list(data.notes),
        "warnings": list(data.warnings),
        "preview": data.preview,
    }
    split = split_data(data)  # the split training makes with the default fraction and seed
    report["baseline"] = _baseline(split)
    # Duplicates over the file, and leakage across the split training would make (default fraction and seed).
    report["audit"] = split_findings(split)
    leak = leakage_warning(report["audit"]["leakage"])
    if leak:
        report["warnings"].append(leak)
    if tokenizer is not None:
        lengths = token_lengths(data.texts, tokenizer)
        # What training on auto would pick for this file (bundled model's tokenizer, CPU): shown before Train.
        auto = choose_hyperparameters(TrainConfig(), len(split.train_texts), lengths)
        # Precision depends on the device training runs on, which the data report (torch-free) does not know.
        report["auto_settings"] = {k: v for k, v in auto.chosen.items() if k != "precision"}
        stats = length_stats(lengths, auto.max_length)
        report["token_lengths"] = stats
        if stats["over_max_length"] > config.LONG_TEXT_WARN_FRACTION * len(data.texts):
            kept = "first and last" if auto.truncation == "head_tail" else "first"
            report["warnings"].append(
                f"{stats['over_max_length']:,} of {len(data.texts):,} texts are longer than "
                f"{stats['max_length']} tokens (the auto max length): only their {kept} {stats['max_length']} "
                "tokens are used."
            )
    return report


def token_lengths(texts: list[str], tokenizer) -> list[int]:
    """Token count of each text, special tokens included, nothing cut."""
    lengths: list[int] = []
    for start in range(0, len(texts), 1000):
        batch = texts[start : start + 1000]
        # verbose=False: no "longer than the maximum" warning, counting long texts is the point.
        ids = tokenizer(batch, add_special_tokens=True, truncation=False, verbose=False)["input_ids"]
        lengths.extend(len(x) for x in ids)
    return lengths


def _baseline(split) -> dict:
    """The bag-of-words baseline on the default split; on a seeded sample of a very large file."""
    from bertdemo.training.baseline import bag_of_words_baseline

    n = config.INSPECT_BASELINE_MAX_ROWS
    train = list(zip(split.train_texts, split.train_labels, strict=True))
    if len(train) > n:
        train = random.Random(config.DEFAULT_SEED).sample(train, n)
    result = bag_of_words_baseline([t for t, _ in train], [y for _, y in train], split.val_texts, split.val_labels)
    result["train_rows"] = len(train)
    return result


def token_length_stats(texts: list[str], tokenizer, max_length: int = config.DEFAULT_MAX_LENGTH) -> dict:
    """Percentiles of token counts (with special tokens) and how many exceed max_length."""
    return length_stats(token_lengths(texts, tokenizer), max_length)


def length_stats(lengths: list[int], max_length: int = config.DEFAULT_MAX_LENGTH) -> dict:
    """Percentiles of token counts and how many exceed max_length."""
    if not lengths:
        return {"p50": 0, "p90": 0, "p95": 0, "p99": 0, "max": 0, "over_max_length": 0, "max_length": max_length}
    ordered = sorted(lengths)

    def pct(q: float) -> int:
        return ordered[max(0, math.ceil(q * len(ordered)) - 1)]  # nearest-rank percentile

    return {
        "p50": pct(0.50),
        "p90": pct(0.90),
        "p95": pct(0.95),
        "p99": pct(0.99),
        "max": ordered[-1],
        "over_max_length": sum(n > max_length for n in lengths),
        "max_length": max_length,
    }
