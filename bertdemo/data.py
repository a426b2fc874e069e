"""Labeled data from a user's CSV: pick the columns, clean texts and labels, split train/validation.

Reading bytes, encodings and delimiters lives in bertdemo.csvread. Every problem a user's file can
have becomes a one-line DataError saying what is wrong and how to fix it.
"""

from __future__ import annotations

import logging
import math
import random
import re
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

from bertdemo import config
from bertdemo.csvread import RawTable, read_table, show, show_list
from bertdemo.errors import DataError

log = logging.getLogger(__name__)

_NUMBER = re.compile(r"^[+-]?(\d+([.,]\d*)?|[.,]\d+)([eE][+-]?\d+)?%?$")
_WHOLE_FLOAT = re.compile(r"^([+-]?\d+)\.0+$")
_NA = frozenset(config.NA_STRINGS)
_COLUMN_FLAGS = "Pass --text-column/--label-column."


@dataclass
class LabeledData:
    """Texts and normalized labels read from one CSV, with what was fixed and what to watch."""

    texts: list[str]
    labels: list[str]
    text_column: str
    label_column: str
    columns: list[str]
    source: str
    encoding: str
    delimiter: str
    rows_read: int
    dropped: dict[str, int]
    duplicates: int
    notes: list[str]
    warnings: list[str]
    preview: list[dict[str, str]]

    def class_counts(self) -> dict[str, int]:
        """Label -> number of rows, sorted by label."""
        return dict(sorted(Counter(self.labels).items()))


@dataclass
class Split:
    """Train and validation rows; `labels` are the sorted class names (index = class id)."""

    train_texts: list[str]
    train_labels: list[str]
    val_texts: list[str]
    val_labels: list[str]
    labels: list[str]


def read_labeled_csv(
    path: str | Path,
    text_column: str | None = None,
    label_column: str | None = None,
    max_rows: int | None = config.DEFAULT_MAX_ROWS,
    seed: int = config.DEFAULT_SEED,
) -> LabeledData:
    """Read a labeled CSV, fixing what can be fixed (noted) and refusing the rest with a DataError."""
    if max_rows is not None:
        max_rows = int(max_rows)  # UI number fields give floats
        if max_rows < 1:
            raise DataError(f"max_rows must be at least 1 (got {max_rows}): pass a positive --max-rows, or none.")
    table = read_table(path)
    notes = list(table.notes)
    ti, li = pick_columns(table, text_column, label_column, notes)
    text_col, label_col = table.columns[ti], table.columns[li]
    texts, labels, dropped = extract_rows(table.rows, ti, li)
    if not texts:
        raise DataError(
            f"No usable rows: all {len(table.rows):,} rows lack a text in {show(text_col)} or a label in "
            f"{show(label_col)}: fill them in, or pick other columns with --text-column/--label-column."
        )
    check_text_not_numeric(texts, text_col)
    texts = cut_long_texts(texts, notes)
    labels = normalize_labels(labels, notes)
    texts, labels = sample_rows(texts, labels, max_rows, seed, notes)
    check_two_classes(labels)
    log.info("Read %s: %d of %d rows kept, %d classes", Path(path).name, len(texts), len(table.rows), len(set(labels)))
    return LabeledData(
        texts=texts,
        labels=labels,
        text_column=text_col,
        label_column=label_col,
        columns=list(table.columns),
        source=Path(path).name,
        encoding=table.encoding,
        delimiter=table.delimiter,
        rows_read=len(table.rows),
        dropped=dropped,
        duplicates=len(texts) - len(set(zip(texts, labels, strict=True))),
        notes=notes,
        warnings=data_warnings(texts, labels, label_col),
        preview=make_preview(table),
    )


# --- columns -------------------------------------------------------------------------------------------------


def _key(name: str) -> str:
    """Column name as compared: trimmed, inner whitespace collapsed, case-insensitive."""
    return " ".join(name.split()).casefold()


def pick_columns(
    table: RawTable, text_column: str | None, label_column: str | None, notes: list[str]
) -> tuple[int, int]:
    """Indexes of the text and label columns: explicit names, then known names, then a 2-column guess."""
    columns = table.columns
    ti = _explicit(columns, text_column, "--text-column")
    li = _explicit(columns, label_column, "--label-column")
    if ti is None:
        ti = _by_name(columns, config.TEXT_COLUMN_NAMES, exclude=li)
    if li is None:
        li = _by_name(columns, config.LABEL_COLUMN_NAMES, exclude=ti)
    if ti is None or li is None:
        if ti is None and li is None and text_column is None and label_column is None:
            check_header_is_not_data(table)
        ti, li = _fallback(table, ti, li, notes)
    if ti == li:
        raise DataError(
            f"Text and label are both column {show(columns[ti])}: pick two different columns. {_COLUMN_FLAGS}"
        )
    return ti, li


def _explicit(columns: list[str], name: str | None, flag: str) -> int | None:
    """Index of a column the user named (exact, else case/space-insensitive), or None if not given."""
    if name is None or not str(name).strip():
        return None
    if name in columns:
        return columns.index(name)
    keys = [_key(c) for c in columns]
    if _key(name) in keys:
        return keys.index(_key(name))
    raise DataError(
        f"Column {show(name)} not found; the file has columns {show_list(columns)}: pass one of them with {flag}."
    )


def _by_name(columns: list[str], names: tuple[str, ...], exclude: int | None) -> int | None:
    """First column whose name is in `names` (in their order of preference), skipping `exclude`."""
    keys = [_key(c) for c in columns]
    for wanted in names:
        for i, key in enumerate(keys):
            if key == wanted and i != exclude:
                return i
    return None


def _fallback(table: RawTable, ti: int | None, li: int | None, notes: list[str]) -> tuple[int, int]:
    """With exactly two columns, take the unknown one(s) by elimination or by text length; else refuse."""
    columns = table.columns
    if len(columns) == 1:
        raise DataError(
            f"The file has only one column ({show(columns[0])}): it needs a text column and a label column, "
            "separated by commas (or ; tab |)."
        )
    if len(columns) > 2:
        if ti is None and li is None:
            raise DataError(
                f"CSV needs a text column and a label column; found columns: {show_list(columns)}. {_COLUMN_FLAGS}"
            )
        missing, flag, names = (
            ("text", "--text-column", config.TEXT_COLUMN_NAMES)
            if ti is None
            else ("label", "--label-column", config.LABEL_COLUMN_NAMES)
        )
        raise DataError(
            f"No {missing} column found (looked for {', '.join(names[:4])}...); "
            f"found columns: {show_list(columns)}. Pass {flag}."
        )
    if ti is not None:
        li = 1 - ti
        notes.append(f"Using column {show(columns[li])} as the label (the only other column).")
    elif li is not None:
        ti = 1 - li
        notes.append(f"Using column {show(columns[ti])} as the text (the only other column).")
    else:
        ti = max((0, 1), key=lambda i: _mean_length(table.rows, i))
        li = 1 - ti
        notes.append(
            f"No column named text/label: using {show(columns[ti])} as text (longer values) "
            f"and {show(columns[li])} as label. {_COLUMN_FLAGS[:-1]} to change."
        )
    return ti, li


def _mean_length(rows: list[list[str]], index: int) -> float:
    """Average stripped length of a column's values."""
    return sum(len(r[index].strip()) for r in rows) / max(1, len(rows))


def check_header_is_not_data(table: RawTable) -> None:
    """Refuse a first row that is data, not names: a number, or a sentence next to a value of its own column."""
    names = [c.strip() for c in table.columns]
    numeric = any(_NUMBER.match(n) for n in names)
    # Without a header the first row is an example: a text (spaces, punctuation) and a label that recurs below.
    # Long survey questions as names are not refused here: they never recur as values.
    text_like = any(" " in n or n.endswith((".", "!", "?")) for n in names)
    recurs = text_like and any(
        n.casefold() in {row[i].strip().casefold() for row in table.rows} for i, n in enumerate(names)
    )
    if numeric or recurs:
        raise DataError(
            f"The first row looks like data, not a header ({show_list(table.columns[:3])}): "
            'add a header line "text,label" at the top of the file.'
        )


# --- rows and labels -----------------------------------------------------------------------------------------


def is_missing(value: str) -> bool:
    """Blank or a NaN-like marker ('nan', 'N/A', 'null'...)."""
    value = value.strip()
    return not value or value.casefold() in _NA


def extract_rows(rows: list[list[str]], ti: int, li: int) -> tuple[list[str], list[str], dict[str, int]]:
    """Stripped texts and raw labels of usable rows, and how many rows were dropped for what."""
    texts, labels = [], []
    dropped: Counter[str] = Counter()
    for row in rows:
        if not any(v.strip() for v in row):
            dropped["blank row"] += 1
        elif is_missing(row[ti]):
            dropped["empty text"] += 1
        elif is_missing(row[li]):
            dropped["missing label"] += 1
        else:
            texts.append(row[ti].strip())
            labels.append(row[li])
    return texts, labels, dict(dropped)


def check_text_not_numeric(texts: list[str], column: str) -> None:
    """Refuse a text column that holds only numbers: the wrong column was picked."""
    if all(_NUMBER.match(t) for t in texts):
        raise DataError(f"Column {show(column)} holds only numbers, not text: pick the text column with --text-column.")


def cut_long_texts(texts: list[str], notes: list[str]) -> list[str]:
    """Cut texts over MAX_TEXT_CHARS: the model reads only the first max_length tokens anyway."""
    limit = config.MAX_TEXT_CHARS
    long = sum(len(t) > limit for t in texts)
    if not long:
        return texts
    notes.append(
        f"Cut {long:,} text(s) longer than {limit:,} characters "
        f"(the model reads only the first {config.DEFAULT_MAX_LENGTH} tokens)."
    )
    return [t[:limit] for t in texts]


def normalize_labels(labels: list[str], notes: list[str]) -> list[str]:
    """Collapse whitespace, '1.0' -> '1', and merge spellings that differ only in case (noted)."""
    spaced = [" ".join(v.split()) for v in labels]
    if any(a != b for a, b in zip(labels, spaced, strict=True)):
        example = next(a for a, b in zip(labels, spaced, strict=True) if a != b)
        notes.append(f"Trimmed extra spaces in labels (e.g. {show(example)}).")
    floats = [_WHOLE_FLOAT.sub(lambda m: str(int(m.group(1))), v) for v in spaced]
    if floats != spaced:
        example = next(a for a, b in zip(spaced, floats, strict=True) if a != b)
        notes.append(f"Read whole-number labels like {show(example)} as integers.")
    return merge_case_variants(floats, notes)


def merge_case_variants(labels: list[str], notes: list[str]) -> list[str]:
    """Map labels that differ only in case to their most frequent spelling."""
    counts = Counter(labels)
    groups: dict[str, list[str]] = defaultdict(list)
    for spelling in counts:
        groups[spelling.casefold()].append(spelling)
    mapping: dict[str, str] = {}
    for spellings in groups.values():
        if len(spellings) < 2:
            continue
        # Most rows wins; on a tie prefer lower case, then a fixed order so the result is deterministic.
        best = min(spellings, key=lambda s: (-counts[s], not s.islower(), s))
        others = sorted(s for s in spellings if s != best)
        mapping.update({s: best for s in others})
        notes.append(f"Merged labels that differ only in case: {', '.join(show(s) for s in others)} -> {show(best)}.")
    return [mapping.get(v, v) for v in labels] if mapping else labels


def sample_rows(
    texts: list[str], labels: list[str], max_rows: int | None, seed: int, notes: list[str]
) -> tuple[list[str], list[str]]:
    """A seeded random sample of max_rows rows (file order kept), or all rows."""
    if max_rows is None or len(texts) <= max_rows:
        return texts, labels
    keep = sorted(random.Random(int(seed)).sample(range(len(texts)), max_rows))
    notes.append(f"Sampled {max_rows:,} of {len(texts):,} rows (--max-rows).")
    return [texts[i] for i in keep], [labels[i] for i in keep]


def check_two_classes(labels: list[str]) -> None:
    """A classifier needs at least two different labels."""
    classes = set(labels)
    if len(classes) < 2:
        raise DataError(
            f"Every row has label {show(next(iter(classes)))}: a classifier needs at least two classes; "
            "add rows of another class."
        )


def data_warnings(texts: list[str], labels: list[str], label_column: str) -> list[str]:
    """What the user should know before training: tiny classes, imbalance, odd label columns, conflicts."""
    counts = Counter(labels)
    warnings = []
    small = sorted((n, label) for label, n in counts.items() if n < config.SMALL_CLASS_ROWS)
    if len(small) > 3:
        warnings.append(
            f"{len(small)} classes have fewer than {config.SMALL_CLASS_ROWS} rows "
            f"(e.g. {', '.join(f'{show(lab)}: {n}' for n, lab in small[:3])}): add more examples."
        )
    for n, label in small if len(small) <= 3 else []:
        warnings.append(
            f"Class {show(label)} has only {n} row(s): add more examples ({config.SMALL_CLASS_ROWS}+ work better)."
        )
    (big, most), (tiny, least) = counts.most_common(1)[0], counts.most_common()[-1]
    if most > config.IMBALANCE_RATIO * least:
        warnings.append(
            f"Classes are imbalanced: {show(big)} has {most:,} rows, {show(tiny)} only {least:,}: "
            "look at per-class F1, not only accuracy."
        )
    if len(counts) > 20 and len(counts) > len(labels) / 2:
        warnings.append(
            f"Column {show(label_column)} has {len(counts):,} different labels for {len(labels):,} rows: "
            "check that it is the label column."
        )
    conflicts = _conflicting_texts(texts, labels)
    if conflicts:
        warnings.append(f"{conflicts:,} text(s) appear with more than one label: fix or remove them.")
    return warnings


def _conflicting_texts(texts: list[str], labels: list[str]) -> int:
    """Number of distinct texts that appear with two or more labels."""
    seen: dict[str, set[str]] = defaultdict(set)
    for text, label in zip(texts, labels, strict=True):
        seen[text].add(label)
    return sum(len(v) > 1 for v in seen.values())


def make_preview(table: RawTable) -> list[dict[str, str]]:
    """The first rows as read (all columns), long cells cut for display."""
    limit = config.PREVIEW_MAX_CHARS

    def cut(value: str) -> str:
        return value if len(value) <= limit else value[: limit - 1] + "…"

    return [{c: cut(v) for c, v in zip(table.columns, row, strict=True)} for row in table.rows[: config.PREVIEW_ROWS]]


# --- splits --------------------------------------------------------------------------------------------------


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
    return Split(
        train_texts=[data.texts[i] for i in train_idx],
        train_labels=[data.labels[i] for i in train_idx],
        val_texts=[data.texts[i] for i in val_idx],
        val_labels=[data.labels[i] for i in val_idx],
        labels=sorted(by_class),
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
    return Split(list(train.texts), list(train.labels), list(val.texts), val_labels, known)


# --- inspection ----------------------------------------------------------------------------------------------


def read_texts(path: str | Path, text_column: str | None = None) -> list[str]:
    """Just the texts of a CSV (labels optional), decoded like read_labeled_csv; for compare/predict."""
    table = read_table(path)
    ti = _explicit(table.columns, text_column, "--text-column")
    if ti is None:
        ti = _by_name(table.columns, config.TEXT_COLUMN_NAMES, exclude=None)
    if ti is None:  # no known name: the column with the longest values
        ti = max(range(len(table.columns)), key=lambda i: _mean_length(table.rows, i))
    texts = [row[ti].strip() for row in table.rows if ti < len(row) and not is_missing(row[ti])]
    if not texts:
        raise DataError(f"Column {show(table.columns[ti])} of {Path(path).name} has no text: give one text per row.")
    return texts


def inspect_csv(
    path: str | Path,
    text_column: str | None = None,
    label_column: str | None = None,
    max_rows: int | None = config.DEFAULT_MAX_ROWS,
    tokenizer=None,
) -> dict:
    """A JSON-able report of what read_labeled_csv makes of a file (plus token lengths with a tokenizer).

    `tokenizer` may also be a zero-argument loader: it is then called only once the file
    has been read, so a bad file is refused without waiting for transformers to load.
    """
    data = read_labeled_csv(path, text_column, label_column, max_rows)
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
    if tokenizer is not None:
        stats = token_length_stats(data.texts, tokenizer)
        report["token_lengths"] = stats
        if stats["over_max_length"] > config.LONG_TEXT_WARN_FRACTION * len(data.texts):
            report["warnings"].append(
                f"{stats['over_max_length']:,} of {len(data.texts):,} texts are longer than "
                f"{stats['max_length']} tokens: only the first {stats['max_length']} tokens are used."
            )
    return report


def token_length_stats(texts: list[str], tokenizer, max_length: int = config.DEFAULT_MAX_LENGTH) -> dict:
    """Percentiles of token counts (with special tokens) and how many exceed max_length."""
    lengths: list[int] = []
    for start in range(0, len(texts), 1000):
        batch = texts[start : start + 1000]
        # verbose=False: no "longer than the maximum" warning, counting long texts is the point.
        ids = tokenizer(batch, add_special_tokens=True, truncation=False, verbose=False)["input_ids"]
        lengths.extend(len(x) for x in ids)
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
