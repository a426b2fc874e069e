"""The one CSV reader: training, the data report, batch prediction and the benchmarks read a file the same way.

A file's start is sniffed once (compression, format, encoding, Excel's `sep=` line, delimiter, whether it is a
table at all); then its rows stream one at a time, so a 50,000-review file to label keeps memory flat, and
`read_table` is that same stream kept in a list. Nothing here knows about text or label columns:
bertdemo.data.columns picks them, bertdemo.data.labeled cleans them.

Row shape rules (documented for users in the messages):
  * blank lines are skipped and not counted (a data row's number counts non-blank records after the header);
  * a row with fewer fields than the header is padded with empty fields (and noted);
  * a row with more fields than the header is an error naming its line, unless the extra fields
    are all empty (trailing delimiters, as Excel writes them), which are ignored.
"""

from __future__ import annotations

import csv
import io
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from bertdemo import config
from bertdemo.data.sniff import DELIMITER_NAMES, CsvFormat, csv_reader, open_binary, sniff, trim_trailing
from bertdemo.errors import DataError

log = logging.getLogger(__name__)

EOF_SENTINEL = "\x00"  # NULs are removed before parsing, so this can only come from us


@dataclass
class TableHead:
    """What a file's start says: header, how it was read, and its first rows (for picking columns)."""

    columns: list[str]
    encoding: str
    delimiter: str
    sample: list[list[str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # grows while the rows stream (padded rows, bad bytes)

    @property
    def rows(self) -> list[list[str]]:
        """The first rows, which is what column picking looks at (as it does a RawTable's rows)."""
        return self.sample


@dataclass
class RawTable:
    """A CSV file as header + rows of strings, each row exactly len(columns) long."""

    columns: list[str]
    rows: list[list[str]]
    encoding: str
    delimiter: str
    notes: list[str] = field(default_factory=list)


def show(value: object, limit: int = 40) -> str:
    """A user value quoted for a one-line message: whitespace collapsed, long values cut."""
    text = " ".join(str(value).split())
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return repr(text)


def show_list(values: list[str], limit: int = 12) -> str:
    """Names for a one-line message: 'a', 'b', ... (and N more)."""
    if not values:
        return "(none)"
    shown = ", ".join(show(v, 30) for v in values[:limit])
    return shown + (f" (and {len(values) - limit} more)" if len(values) > limit else "")


def read_table(path: str | Path, max_rows: int = config.MAX_FILE_ROWS) -> RawTable:
    """The whole file as a RawTable (open_table's rows, kept), or a DataError saying what is wrong with it."""
    with open_table(path, max_rows) as (head, rows):
        body = list(rows)
    return RawTable(head.columns, body, head.encoding, head.delimiter, head.notes)


def count_rows(path: str | Path, max_rows: int = config.MAX_FILE_ROWS) -> int:
    """Data rows of a CSV, read as open_table reads them, keeping none; past max_rows a DataError at once."""
    with open_table(path, max_rows) as (_, rows):
        return sum(1 for _ in rows)


@contextmanager
def open_table(
    path: str | Path, max_rows: int = config.MAX_FILE_ROWS
) -> Iterator[tuple[TableHead, Iterator[list[str]]]]:
    """(head, rows) of a CSV (or .csv.gz); rows stream one at a time, each exactly as wide as the header.

    More than max_rows data rows is a DataError as soon as the reader gets there.
    """
    path = check_path(path)
    fmt = sniff(path)
    with _open_text(path, fmt.encoding) as text:
        records = _records(_lines(text, fmt), fmt.delimiter, fmt.skip_lines, path.name)
        first = next(records, None)
        if first is None:
            raise DataError(f'{path.name} is empty: save your data as CSV with a header row "text,label".')
        sample = []
        for span, record in records:
            sample.append((span, record))
            if len(sample) >= config.CONTENT_SAMPLE_ROWS:
                break
        if not sample:
            raise DataError(f"{path.name} has a header row but no data rows: add one row per example under the header.")
        shape = _RowShape(first[1], sample, fmt.notes, fmt.delimiter, max_rows, path.name)
        head = TableHead(shape.columns, fmt.label, fmt.delimiter, [], fmt.notes)
        head.sample = [shape.fit(span, record) for span, record in sample]

        def rows() -> Iterator[list[str]]:
            yield from head.sample
            for span, record in records:
                yield shape.fit(span, record)
            shape.finish()
            fmt.note_replaced()

        log.debug("open %s: %s, %r, %d columns", path.name, fmt.label, fmt.delimiter, len(head.columns))
        yield head, rows()


def check_path(path: str | Path) -> Path:
    """The path as a Path if it is an existing file within the upload limit."""
    path = Path(path)
    try:
        exists, is_dir = path.exists(), path.is_dir()
        size_mb = path.stat().st_size / (1024 * 1024) if exists else 0.0
    except OSError as exc:  # name too long, permission denied on a parent folder...
        raise DataError(f"Cannot open {show(str(path), 80)} ({exc.strerror or exc}): check the path.") from exc
    if not exists:
        raise DataError(f"File not found: {show(str(path), 80)}. Check the path, or upload the file again.")
    if is_dir:
        raise DataError(f"{show(str(path), 80)} is a folder, not a CSV file: give the path of a .csv file.")
    if size_mb > config.MAX_UPLOAD_MB:
        raise DataError(
            f"{path.name} is {size_mb:.1f} MB, over the {config.MAX_UPLOAD_MB} MB limit: "
            "keep only the text and label columns, or split the file."
        )
    return path


# --- streaming the rows ------------------------------------------------------------------------------------------


@contextmanager
def _open_text(path: Path, encoding: str) -> Iterator[IO[str]]:
    raw = open_binary(path)
    # newline="": the csv module sees \r, \n and \r\n as they are and keeps quoted newlines inside fields.
    text = io.TextIOWrapper(raw, encoding=encoding, errors="replace", newline="")
    try:
        yield text
    finally:
        text.close()


def _lines(text: IO[str], fmt: CsvFormat) -> Iterator[str]:
    """The file's lines without NULs, then the end-of-file sentinel (an unclosed quote swallows it)."""
    nuls = 0
    for i, line in enumerate(text):
        if i == 0:
            line = line.removeprefix(fmt.strip_first).lstrip("\ufeff")
        if i < fmt.skip_lines:
            continue
        if "\x00" in line:
            nuls += line.count("\x00")
            line = line.replace("\x00", "")
        if fmt.count_replaced and "\ufffd" in line:
            fmt.replaced[0] += line.count("\ufffd")
        yield line
    if nuls:
        fmt.notes.append(f"Removed {nuls:,} NUL character(s).")
    yield "\n"
    yield EOF_SENTINEL


def _records(lines: Iterator[str], delimiter: str, offset: int, name: str) -> Iterator[tuple[int, list[str]]]:
    """(first line number, fields) of every non-blank record; a broken record is a one-line DataError."""
    csv.field_size_limit(max(csv.field_size_limit(), config.MAX_UPLOAD_MB * 1024 * 1024))
    reader = csv_reader(lines, delimiter)
    last = 0
    while True:
        try:
            record = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise DataError(f"Line {last + 1 + offset} is not valid CSV ({exc}): fix that line.") from exc
        start, last = last + 1, reader.line_num
        if record == [EOF_SENTINEL] or (len(record) <= 1 and not "".join(record).strip()):
            continue  # blank line
        if record[-1].endswith(EOF_SENTINEL):
            raise DataError(
                f'Line {start + offset} opens a double quote (") that is never closed: '
                "close or remove it, then save the file again."
            )
        if any("\r" in v for v in record):
            record = [v.replace("\r\n", "\n").replace("\r", "\n") for v in record]
        yield (start + offset, last + offset), record


class _RowShape:
    """The header's columns (tidied) and each row made to fit them, by the rules in the module docstring."""

    def __init__(self, header: list[str], sample: list, notes: list[str], delimiter: str, max_rows: int, name: str):
        self.notes, self.delimiter, self.max_rows, self.name = notes, delimiter, max_rows, name
        self.width = len(header)
        self.rows = self.padded = 0
        # The sample's rows decide which unnamed columns are empty (they are dropped).
        fitted = [self._fit_width(span, record) for span, record in sample]
        self.columns, self.keep = tidy_columns(header, fitted, notes)
        self.rows = self.padded = 0  # the sample is counted again when it streams out

    def _fit_width(self, span: tuple[int, int], record: list[str]) -> list[str]:
        first, last = span
        record = trim_trailing(record, self.width)
        if len(record) > self.width and last > first:
            raise DataError(
                f"Lines {first}-{last} read as one row of {len(record)} fields (the header has {self.width}): "
                f'check for a double quote (") on line {first} that is not closed.'
            )
        if len(record) > self.width:
            raise DataError(
                f"Line {first} has {len(record)} fields but the header has {self.width}: wrap texts that contain "
                f"{DELIMITER_NAMES[self.delimiter]} in double quotes, or fix that line."
            )
        if len(record) < self.width:
            self.padded += 1
            record = record + [""] * (self.width - len(record))
        return record

    def fit(self, span: tuple[int, int], record: list[str]) -> list[str]:
        self.rows += 1
        if self.rows > self.max_rows:
            limit = f"{self.max_rows:,}"
            raise DataError(f"{self.name} has more than {limit} rows, over the {limit}-row limit: split the file.")
        record = self._fit_width(span, record)
        return record if self.keep is None else [record[i] for i in self.keep]

    def finish(self) -> None:
        if self.padded:
            self.notes.append(
                f"{self.padded:,} row(s) had fewer fields than the header; the missing fields were read as empty."
            )


def tidy_columns(columns: list[str], sample: list[list[str]], notes: list[str]) -> tuple[list[str], list[int] | None]:
    """Names stripped, empty unnamed columns dropped (judged on the sample), the other unnamed ones named,
    duplicates refused; returns the names and the kept column indexes (None: all of them)."""
    names = [c.strip() for c in columns]
    keep = [i for i, n in enumerate(names) if n or any(r[i].strip() for r in sample)]
    if len(keep) < len(names):
        notes.append(f"Ignored {len(names) - len(keep)} empty column(s) without a name.")
        names = [names[i] for i in keep]
    if not names:
        raise DataError('The first row (the header) is empty: add a header line "text,label" at the top of the file.')
    for i, name in enumerate(names):
        if not name:
            names[i] = f"column_{i + 1}"
            notes.append(f"Column {i + 1} has no name; called it {names[i]!r}.")
    seen: set[str] = set()
    for name in names:
        if name.casefold() in seen:
            raise DataError(
                f"Column name {show(name)} appears twice in the header: rename one so every column name is unique."
            )
        seen.add(name.casefold())
    return names, keep if len(keep) < len(columns) else None
