"""Labeled data from a user's CSV: clean texts and labels, drop unusable rows, note what was fixed.

Reading bytes, encodings and delimiters lives in bertdemo.data.csvread, picking columns in bertdemo.data.columns,
splitting in bertdemo.data.splits. Every problem a user's file can
have becomes a one-line DataError saying what is wrong and how to fix it.
"""

from __future__ import annotations

import logging
import random
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from bertdemo import config
from bertdemo.data.columns import NUMBER, pick_columns, pick_text_and_label
from bertdemo.data.csvread import RawTable, read_table, show
from bertdemo.errors import ColumnError, DataError

log = logging.getLogger(__name__)

_WHOLE_FLOAT = re.compile(r"^([+-]?\d+)\.0+$")
_NA = frozenset(config.NA_STRINGS)


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
    # 1-based data row of the file each text came from (header and blank lines not counted): the data audit
    # names rows by it. Empty for data built in memory; `row_numbers()` then counts 1..n.
    rows: list[int] = field(default_factory=list)

    def row_numbers(self) -> list[int]:
        """Each text's row in the file (1..n when unknown)."""
        return list(self.rows) if len(self.rows) == len(self.texts) else list(range(1, len(self.texts) + 1))

    def class_counts(self) -> dict[str, int]:
        """Label -> number of rows, sorted by label."""
        return dict(sorted(Counter(self.labels).items()))


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
            raise DataError(f"Max rows must be at least 1 (got {max_rows}).", cli_hint="(command line: --max-rows)")
    table = read_table(path)
    notes = list(table.notes)
    ti, li = pick_columns(table, text_column, label_column, notes)
    text_col, label_col = table.columns[ti], table.columns[li]
    texts, labels, dropped, rows = extract_rows(table.rows, ti, li)
    if not texts:
        raise ColumnError(
            f"No usable rows: all {len(table.rows):,} rows lack a text in {show(text_col)} or a label in "
            f"{show(label_col)}: fill them in, or pick other columns.",
            table.columns,
            cli_hint="(command line: --text-column and --label-column)",
        )
    check_text_not_numeric(texts, text_col)
    texts = cut_long_texts(texts, notes)
    labels = normalize_labels(labels, notes)
    keep = sample_rows(len(texts), max_rows, seed, notes)
    if keep is not None:
        texts, labels, rows = [texts[i] for i in keep], [labels[i] for i in keep], [rows[i] for i in keep]
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
        rows=rows,
    )


# --- rows and labels -----------------------------------------------------------------------------------------


def is_missing(value: str) -> bool:
    """Blank or a NaN-like marker ('nan', 'N/A', 'null'...)."""
    value = value.strip()
    return not value or value.casefold() in _NA


def extract_rows(rows: list[list[str]], ti: int, li: int) -> tuple[list[str], list[str], dict[str, int], list[int]]:
    """Stripped texts and raw labels of usable rows, how many rows were dropped for what, and the kept rows' numbers."""
    texts, labels, numbers = [], [], []
    dropped: Counter[str] = Counter()
    for number, row in enumerate(rows, start=1):
        if not any(v.strip() for v in row):
            dropped["blank row"] += 1
        elif is_missing(row[ti]):
            dropped["empty text"] += 1
        elif is_missing(row[li]):
            dropped["missing label"] += 1
        else:
            texts.append(row[ti].strip())
            labels.append(row[li])
            numbers.append(number)
    return texts, labels, dict(dropped), numbers


def check_text_not_numeric(texts: list[str], column: str) -> None:
    """Refuse a text column that holds only numbers: the wrong column was picked."""
    if all(NUMBER.match(t) for t in texts):
        raise DataError(
            f"Column {show(column)} holds only numbers, not text: pick the text column.",
            cli_hint="(command line: --text-column)",
        )


def cut_long_texts(texts: list[str], notes: list[str]) -> list[str]:
    """Cut the middle out of texts over MAX_TEXT_CHARS: the model reads at most its first and last tokens."""
    limit = config.MAX_TEXT_CHARS
    long = sum(len(t) > limit for t in texts)
    if not long:
        return texts
    notes.append(
        f"Cut {long:,} text(s) longer than {limit:,} characters to their first and last {limit // 2:,} "
        "(the model reads at most 512 tokens of a text, from its start or from both ends)."
    )
    return [clip_text(t) for t in texts]


def clip_text(text: str, limit: int = config.MAX_TEXT_CHARS) -> str:
    """The text, or its first and last limit/2 characters: head+tail truncation reads a long review's ending too."""
    if len(text) <= limit:
        return text
    head = limit // 2
    return text[: head - 1] + " " + text[len(text) - (limit - head) :]


def normalize_label(value: str) -> str:
    """One label as training reads it: whitespace collapsed, '1.0' -> '1' (case is merged per file)."""
    return _WHOLE_FLOAT.sub(lambda m: str(int(m.group(1))), " ".join(value.split()))


def normalize_labels(labels: list[str], notes: list[str]) -> list[str]:
    """Collapse whitespace, '1.0' -> '1', and merge spellings that differ only in case (noted)."""
    spaced = [" ".join(v.split()) for v in labels]
    if any(a != b for a, b in zip(labels, spaced, strict=True)):
        example = next(a for a, b in zip(labels, spaced, strict=True) if a != b)
        notes.append(f"Trimmed extra spaces in labels (e.g. {show(example)}).")
    floats = [normalize_label(v) for v in spaced]
    if floats != spaced:
        example = next(a for a, b in zip(spaced, floats, strict=True) if a != b)
        notes.append(f"Read whole-number labels like {show(example)} as integers.")
    return merge_case_variants(floats, notes)


def merge_case_variants(labels: list[str], notes: list[str]) -> list[str]:
    """Map labels that differ only in case to their lower-case spelling.

    The one merge rule of the app: the report, the run, its model card and every download read labels from
    here. Lower case, not the most frequent spelling: that gave 'POSITIVE', 'Neutral' and 'negative' side by
    side when each group had a different majority.
    """
    counts = Counter(labels)
    groups: dict[str, list[str]] = defaultdict(list)
    for spelling in counts:
        groups[spelling.casefold()].append(spelling)
    mapping: dict[str, str] = {}
    for spellings in groups.values():
        if len(spellings) < 2:
            continue
        best = min(s.lower() for s in spellings)  # min: deterministic where lower() and casefold() differ (ß)
        others = sorted(s for s in spellings if s != best)
        mapping.update({s: best for s in others})
        notes.append(f"Merged labels that differ only in case: {', '.join(show(s) for s in others)} -> {show(best)}.")
    return [mapping.get(v, v) for v in labels] if mapping else labels


def sample_rows(n: int, max_rows: int | None, seed: int, notes: list[str]) -> list[int] | None:
    """Positions of a seeded random sample of max_rows of n rows (file order kept), or None to keep all."""
    if max_rows is None or n <= max_rows:
        return None
    keep = sorted(random.Random(int(seed)).sample(range(n), max_rows))
    notes.append(f"Sampled {max_rows:,} of {n:,} rows (the max rows setting).")
    return keep


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


def read_texts(path: str | Path, text_column: str | None = None) -> list[str]:
    """Just the texts of a CSV (labels optional), read and picked as everywhere else; for compare/predict."""
    table = read_table(path)
    ti, _ = pick_text_and_label(table, text_column, config.NO_COLUMN, list(table.notes), label_required=False)
    texts = [row[ti].strip() for row in table.rows if not is_missing(row[ti])]
    if not texts:
        raise DataError(f"Column {show(table.columns[ti])} of {Path(path).name} has no text: give one text per row.")
    return texts
