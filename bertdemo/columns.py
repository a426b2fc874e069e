"""Which column of a user's CSV holds the texts and which the labels: named, known names, or a guess."""

from __future__ import annotations

import re

from bertdemo import config
from bertdemo.csvread import RawTable, show, show_list
from bertdemo.errors import DataError

NUMBER = re.compile(r"^[+-]?(\d+([.,]\d*)?|[.,]\d+)([eE][+-]?\d+)?%?$")
_COLUMN_FLAGS = "Pass --text-column/--label-column."


def _key(name: str) -> str:
    """Column name as compared: trimmed, inner whitespace collapsed, case-insensitive."""
    return " ".join(name.split()).casefold()


def pick_columns(
    table: RawTable, text_column: str | None, label_column: str | None, notes: list[str]
) -> tuple[int, int]:
    """Indexes of the text and label columns: explicit names, then known names, then a 2-column guess."""
    columns = table.columns
    ti = explicit_column(columns, text_column, "--text-column")
    li = explicit_column(columns, label_column, "--label-column")
    if ti is None:
        ti = column_by_name(columns, config.TEXT_COLUMN_NAMES, exclude=li)
    if li is None:
        li = column_by_name(columns, config.LABEL_COLUMN_NAMES, exclude=ti)
    if ti is None or li is None:
        if ti is None and li is None and text_column is None and label_column is None:
            check_header_is_not_data(table)
        ti, li = _fallback(table, ti, li, notes)
    if ti == li:
        raise DataError(
            f"Text and label are both column {show(columns[ti])}: pick two different columns. {_COLUMN_FLAGS}"
        )
    return ti, li


def explicit_column(columns: list[str], name: str | None, flag: str) -> int | None:
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


def column_by_name(columns: list[str], names: tuple[str, ...], exclude: int | None) -> int | None:
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
        ti = max((0, 1), key=lambda i: mean_length(table.rows, i))
        li = 1 - ti
        notes.append(
            f"No column named text/label: using {show(columns[ti])} as text (longer values) "
            f"and {show(columns[li])} as label. {_COLUMN_FLAGS[:-1]} to change."
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
