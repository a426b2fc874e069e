"""A large CSV read row by row (batch prediction): encoding and delimiter sniffed from its start, .csv.gz too.

bertdemo.data.csvread reads a whole file into memory, which suits a training set checked before training; a file
to label may be a 50,000-review IMDB dump, so here rows stream and memory stays flat whatever the file's size.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import io
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from bertdemo import config
from bertdemo.data.csvread import check_magic, detect_delimiter, show
from bertdemo.errors import DataError

_GZIP_MAGIC = b"\x1f\x8b"


@dataclass
class CsvHead:
    """What the first rows of a file say: header, encoding, delimiter, and a few rows for column detection."""

    columns: list[str]
    encoding: str
    delimiter: str
    sample: list[list[str]] = field(default_factory=list)


def _open_binary(path: Path) -> IO[bytes]:
    """The file's bytes, decompressed on the fly when it is gzip (imdb_50k.csv.gz)."""
    with open(path, "rb") as fh:
        gz = fh.read(2) == _GZIP_MAGIC
    return gzip.open(path, "rb") if gz else open(path, "rb")


def _sniff_encoding(sample: bytes) -> str:
    """utf-8 (with or without BOM) when the sample decodes as such, UTF-16 by its BOM, else cp1252 (Excel)."""
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    try:
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=False)  # a cut last character is fine
        return "utf-8-sig"
    except UnicodeDecodeError:
        return "cp1252"


def _check_file(path: Path) -> Path:
    path = Path(path)
    if not path.is_file():
        raise DataError(f"File not found: {show(str(path), 80)}. Check the path, or upload the file again.")
    return path


def _records(text: IO[str], delimiter: str, name: str) -> Iterator[tuple[int, list[str]]]:
    """(line number, fields) of every non-blank record; a broken record is a one-line DataError."""
    csv.field_size_limit(max(csv.field_size_limit(), config.MAX_UPLOAD_MB * 1024 * 1024))
    reader = csv.reader(text, delimiter=delimiter, skipinitialspace=True)
    while True:
        try:
            record = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise DataError(f"Line {reader.line_num} of {name} is not valid CSV ({exc}): fix that line.") from exc
        if len(record) <= 1 and not "".join(record).strip():
            continue  # blank line
        yield reader.line_num, record


@contextmanager
def open_csv(path: str | Path) -> Iterator[tuple[CsvHead, Iterator[list[str]]]]:
    """(head, rows) of a CSV; rows come one at a time, each padded or cut to the header's width."""
    path = _check_file(Path(path))
    with _open_binary(path) as raw:
        start = raw.read(config.SNIFF_CHARS)
    if not start.strip():
        raise DataError(f'{path.name} is empty: save your data as CSV with a header row (e.g. "text").')
    check_magic(start)
    encoding = _sniff_encoding(start)
    sample_text = start.decode(encoding, errors="ignore")
    if sample_text.lower().startswith("sep="):
        raise DataError(f"{path.name} starts with an Excel 'sep=' line: remove that line, then upload it again.")
    delimiter = detect_delimiter(sample_text)
    raw = _open_binary(path)
    text = io.TextIOWrapper(raw, encoding=encoding, errors="replace", newline="")
    try:
        records = _records(text, delimiter, path.name)
        first = next(records, None)
        if first is None:
            raise DataError(f'{path.name} is empty: save your data as CSV with a header row (e.g. "text").')
        columns = [c.strip() or f"column_{i + 1}" for i, c in enumerate(first[1])]
        width = len(columns)
        sample: list[list[str]] = []
        for _, record in records:
            sample.append(_fit(record, width))
            if len(sample) >= config.PREVIEW_ROWS * 5:
                break

        def rows() -> Iterator[list[str]]:
            yield from sample
            for _, record in records:
                yield _fit(record, width)

        yield CsvHead(columns, encoding, delimiter, sample), rows()
    finally:
        text.close()


def _fit(record: list[str], width: int) -> list[str]:
    """A record made exactly `width` fields long: missing fields empty, extra ones dropped."""
    if len(record) < width:
        return record + [""] * (width - len(record))
    return record[:width]


def count_rows(path: str | Path) -> int:
    """Data rows of a CSV (blank lines not counted), read as open_csv reads them, without keeping any."""
    with open_csv(path) as (_, rows):
        return sum(1 for _ in rows)
