"""Which column of a user's CSV holds the texts and which the labels: named, known names, or their contents."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bertdemo import config
from bertdemo.data.csvread import RawTable, show, show_list
from bertdemo.errors import ColumnError, DataError

NUMBER = re.compile(r"^[+-]?(\d+([.,]\d*)?|[.,]\d+)([eE][+-]?\d+)?%?$")
_BOTH_FLAGS = "(command line: --text-column and --label-column)"
_FLAG = {"text": "--text-column", "label": "--label-column"}
_NA = frozenset(config.NA_STRINGS)


def _key(name: str) -> str:
    """Column name as compared: trimmed, inner whitespace collapsed, case-insensitive."""
    return " ".join(name.split()).casefold()


def _words(name: str) -> set[str]:
    """The words of a column name: 'Review Text' -> {review, text}, 'is_spam' -> {is, spam}."""
    return set(re.split(r"[^0-9a-z]+", _key(name))) - {""}


def pick_columns(
    table: RawTable, text_column: str | None, label_column: str | None, notes: list[str]
) -> tuple[int, int]:
    """Indexes of the text and label columns: explicit names, then known names, then the contents."""
    columns = table.columns
    ti = explicit_column(columns, text_column, "text")
    li = explicit_column(columns, label_column, "label")
    if ti is None:
        ti = column_by_name(columns, config.TEXT_COLUMN_NAMES, exclude=li)
        if ti is None:
            ti = _text_by_name_words(table, exclude=li)
        elif _key(columns[ti]) in config.SUMMARY_COLUMN_NAMES:
            ti = _body_over_summary(table, ti, li, notes)
    if li is None:
        li = column_by_name(columns, config.LABEL_COLUMN_NAMES, exclude=ti)
        if li is None:
            li = _label_by_name_words(table, exclude=ti)
    if ti is None or li is None:
        if ti is None and li is None and text_column is None and label_column is None:
            check_header_is_not_data(table)
        ti, li = _fallback(table, ti, li, notes)
    if ti == li:
        raise ColumnError(
            f"Text and label are both column {show(columns[ti])}: pick two different columns.",
            columns,
            cli_hint=_BOTH_FLAGS,
        )
    return ti, li


def explicit_column(columns: list[str], name: str | None, role: str) -> int | None:
    """Index of a column the user named (exact, else case/space-insensitive), or None if not given."""
    if name is None or not str(name).strip():
        return None
    if name in columns:
        return columns.index(name)
    keys = [_key(c) for c in columns]
    if _key(name) in keys:
        return keys.index(_key(name))
    raise ColumnError(
        f"Column {show(name)} not found; the file has columns {show_list(columns)}: pick the {role} column among them.",
        columns,
        cli_hint=f"(command line: {_FLAG.get(role, role)})",
    )


def column_by_name(columns: list[str], names: tuple[str, ...], exclude: int | None) -> int | None:
    """First column whose name is in `names` (in their order of preference), skipping `exclude`."""
    keys = [_key(c) for c in columns]
    for wanted in names:
        for i, key in enumerate(keys):
            if key == wanted and i != exclude:
                return i
    return None


def _text_by_name_words(table: RawTable, exclude: int | None) -> int | None:
    """A column with a text name as one of its words ('Review Text', 'comment_body') that holds text."""
    found = [
        i
        for i, c in enumerate(table.columns)
        if i != exclude and _words(c) & set(config.TEXT_COLUMN_NAMES) and _text_like(column_stats(table, i))
    ]
    return max(found, key=lambda i: column_stats(table, i).mean_length) if found else None


def _body_over_summary(table: RawTable, ti: int, li: int | None, notes: list[str]) -> int:
    """A 'title' is a summary: a text-like column with much longer values (Title, Description) is the text."""
    title = column_stats(table, ti)
    longer = [
        i
        for i in range(len(table.columns))
        if i not in (ti, li)
        and _text_like(stats := column_stats(table, i))
        and stats.mean_length >= config.BODY_OVER_SUMMARY_RATIO * title.mean_length
    ]
    if not longer:
        return ti
    body = max(longer, key=lambda i: column_stats(table, i).mean_length)
    notes.append(
        f"Using {show(table.columns[body])} as the text (longer than {show(table.columns[ti])}); "
        "pick the other one if that is wrong."
    )
    return body


def _label_by_name_words(table: RawTable, exclude: int | None) -> int | None:
    """A column with a label name as one of its words ('Sentiment Label', 'class_id') that holds few values."""
    wanted = set(config.LABEL_COLUMN_NAMES)
    for i, c in enumerate(table.columns):
        if i != exclude and _words(c) & wanted and _label_like(column_stats(table, i)):
            return i
    return None


@dataclass(frozen=True)
class ColumnStats:
    """What a column's values look like, from the first rows."""

    sampled: int  # rows looked at
    filled: int  # non-missing values among them
    distinct: int
    mean_length: float
    letters: float  # share of values with a letter in them
    numeric: float  # share of values that are numbers


def column_stats(table: RawTable, index: int) -> ColumnStats:
    """Stats of one column over the first CONTENT_SAMPLE_ROWS rows."""
    sample = table.rows[: config.CONTENT_SAMPLE_ROWS]
    values = [v for v in (row[index].strip() for row in sample) if v and v.casefold() not in _NA]
    n = max(1, len(values))
    return ColumnStats(
        sampled=len(sample),
        filled=len(values),
        distinct=len(set(values)),
        mean_length=sum(len(v) for v in values) / n,
        letters=sum(any(ch.isalpha() for ch in v) for v in values) / n,
        numeric=sum(bool(NUMBER.match(v)) for v in values) / n,
    )


def _mostly_filled(s: ColumnStats) -> bool:
    # Spreadsheet exports carry mostly empty columns ("Unnamed: 2"): they hold neither texts nor labels.
    return s.filled >= max(2, 0.5 * s.sampled)


def _text_like(s: ColumnStats) -> bool:
    # Texts have letters, are mostly different from each other, and are not numbers (ids, prices, dates).
    return _mostly_filled(s) and s.letters >= 0.8 and s.numeric < 0.5 and s.distinct >= max(2, 0.3 * s.filled)


def _label_like(s: ColumnStats) -> bool:
    # Labels repeat: a few distinct values, each shared by several rows (ids, texts and dates do not).
    return (
        _mostly_filled(s)
        and 2 <= s.distinct <= config.LABEL_MAX_DISTINCT
        and s.distinct <= config.LABEL_MAX_DISTINCT_FRACTION * s.filled
    )


def _fallback(table: RawTable, ti: int | None, li: int | None, notes: list[str]) -> tuple[int, int]:
    """With two columns, take the unknown one(s) by elimination or by text length; else by content."""
    columns = table.columns
    if len(columns) == 1:
        raise ColumnError(
            f"The file has only one column ({show(columns[0])}): it needs a text column and a label column, "
            "separated by commas (or ; tab |).",
            columns,
        )
    if len(columns) > 2:
        return _by_content(table, ti, li, notes)
    if ti is not None:
        li = 1 - ti
        notes.append(f"Using column {show(columns[li])} as the label (the only other column).")
    elif li is not None:
        ti = 1 - li
        notes.append(f"Using column {show(columns[ti])} as the text (the only other column).")
    else:
        ti = max((0, 1), key=lambda i: mean_length(table.rows, i))
        li = 1 - ti
        notes.append(
            f"No column named text/label: using {show(columns[ti])} as text (longer values) "
            f"and {show(columns[li])} as label; pick the other way round if that is wrong."
        )
    return ti, li


def _by_content(table: RawTable, ti: int | None, li: int | None, notes: list[str]) -> tuple[int, int]:
    """The text column holds long, varied strings; the label column few distinct values. Else ColumnError."""
    columns = table.columns
    stats = [column_stats(table, i) for i in range(len(columns))]
    guessed_text = ti is None
    if ti is None:
        texts = [i for i, s in enumerate(stats) if i != li and _text_like(s)]
        ti = max(texts, key=lambda i: stats[i].mean_length) if texts else None
    guessed_label = li is None
    if li is None:
        labels = [
            i
            for i, s in enumerate(stats)
            if i != ti and _label_like(s) and (ti is None or s.mean_length < stats[ti].mean_length)
        ]
        # Fewest distinct values first: a 2-valued flag is a likelier label than a 40-valued category.
        li = min(labels, key=lambda i: (stats[i].distinct, i)) if labels else None
    if ti is None or li is None:
        missing = (
            "text and label columns" if ti is None and li is None else "text column" if ti is None else ("label column")
        )
        raise ColumnError(
            f"Could not tell which column holds the {'texts' if ti is None else 'labels'} "
            f"(columns: {show_list(columns)}): pick the {missing}.",
            columns,
            cli_hint=_BOTH_FLAGS,
        )
    picked = []
    if guessed_text:
        picked.append(f"{show(columns[ti])} as the text (longest varied values)")
    if guessed_label:
        picked.append(f"{show(columns[li])} as the label ({stats[li].distinct} distinct values)")
    notes.append(
        f"No column named like text/label: picked {' and '.join(picked)} by their contents; "
        "pick other columns if that is wrong."
    )
    return ti, li


def mean_length(rows: list[list[str]], index: int) -> float:
    """Average stripped length of a column's values."""
    return sum(len(r[index].strip()) for r in rows) / max(1, len(rows))


def check_header_is_not_data(table: RawTable) -> None:
    """Refuse a first row that is data, not names: a number, or a sentence next to a value of its own column."""
    names = [c.strip() for c in table.columns]
    numeric = any(NUMBER.match(n) for n in names)
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
