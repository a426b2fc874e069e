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

import codecs
import csv
import gzip
import io
import logging
import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from bertdemo import config
from bertdemo.errors import DataError

log = logging.getLogger(__name__)

SAVE_AS_CSV = "save it as CSV (UTF-8)"
GOOD_FILE = 'a good file has a header line such as "text,label", then one example per line'
_EOF_SENTINEL = "\x00"  # NULs are removed before parsing, so this can only come from us
_GZIP_MAGIC = b"\x1f\x8b"
_DELIMITER_NAMES = {",": "','", ";": "';'", "\t": "tab", "|": "'|'"}

# Leading bytes of formats people rename to .csv, with what to tell them.
_MAGIC = (
    (b"PK\x03\x04", f"This looks like a ZIP/Excel file, not CSV: {SAVE_AS_CSV}."),
    (b"PK\x05\x06", f"This looks like a ZIP/Excel file, not CSV: {SAVE_AS_CSV}."),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", f"This looks like an old Excel (.xls) or Word file, not CSV: {SAVE_AS_CSV}."),
    (b"%PDF", f"This looks like a PDF file, not CSV: export the data from its source and {SAVE_AS_CSV}."),
    (b"PAR1", f"This looks like a Parquet file, not CSV: {SAVE_AS_CSV} (pandas: df.to_csv(path, index=False))."),
    (b"SQLite format 3", f"This looks like an SQLite database, not CSV: export the table and {SAVE_AS_CSV}."),
)
_BOMS = (  # UTF-32 first: its LE BOM starts with the UTF-16 LE one
    (codecs.BOM_UTF32_LE, "utf-32", "UTF-32"),
    (codecs.BOM_UTF32_BE, "utf-32", "UTF-32"),
    (codecs.BOM_UTF8, "utf-8-sig", "UTF-8"),
    (codecs.BOM_UTF16_LE, "utf-16", "UTF-16"),
    (codecs.BOM_UTF16_BE, "utf-16", "UTF-16"),
)
_SEP_LINE = re.compile(r"^sep=(.)\s*$", re.IGNORECASE)  # Excel's "sep=;" first line
_JSON_START = re.compile(r'^\s*(\[\s*)?\{\s*"')


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
    fmt = _sniff(path)
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


# --- sniffing the start of a file --------------------------------------------------------------------------------


@dataclass
class _Format:
    encoding: str  # the codec the stream is decoded with
    label: str  # what the user is told ("utf-8", "utf-16-le", ...)
    delimiter: str
    skip_lines: int  # Excel's sep= line
    notes: list[str]
    replaced: list[int] = field(default_factory=lambda: [0])  # bad bytes met while streaming (UTF-8 files)
    count_replaced: bool = False  # the start had invalid UTF-8: count the replacement characters
    strip_first: str = ""  # a UTF-8 BOM read as Windows-1252 ("ï»¿") before the header

    def note_replaced(self) -> None:
        if self.count_replaced and self.replaced[0]:
            self.notes.append(f"Read as UTF-8; {self.replaced[0]:,} invalid byte(s) replaced with '\ufffd'.")


def _open_binary(path: Path) -> IO[bytes]:
    """The file's bytes, decompressed on the fly when it is gzip, never more than the inflated-size bound."""
    with open(path, "rb") as fh:
        gz = fh.read(2) == _GZIP_MAGIC
    if not gz:
        return open(path, "rb")
    return io.BufferedReader(_Bounded(gzip.open(path, "rb"), path.name))


class _Bounded(io.RawIOBase):
    """A gzip stream that refuses to inflate past config.MAX_INFLATED_MB (a small file can hide gigabytes)."""

    def __init__(self, inner: IO[bytes], name: str):
        self._inner, self._name, self._read = inner, name, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        try:
            data = self._inner.read(len(buffer))
        except (OSError, EOFError) as exc:  # gzip.BadGzipFile is an OSError
            raise DataError(
                f"{self._name} is a damaged gzip file ({exc}): compress it again, or upload the .csv."
            ) from exc
        self._read += len(data)
        if self._read > config.MAX_INFLATED_MB * 1024 * 1024:
            raise DataError(
                f"{self._name} inflates to over {config.MAX_INFLATED_MB} MB: split the file, or upload fewer rows."
            )
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        self._inner.close()
        super().close()


def _sniff(path: Path) -> _Format:
    """Read the start once: format, encoding, sep= line, delimiter, and that it is a table of text at all."""
    with _open_binary(path) as raw:
        start = raw.read(config.SNIFF_BYTES)
        more = bool(raw.read(1))
        gz = isinstance(raw, io.BufferedReader) and isinstance(raw.raw, _Bounded)
    if not start.strip():
        raise DataError(f'{path.name} is empty: save your data as CSV with a header row "text,label".')
    check_magic(start)
    encoding, label, notes = sniff_encoding(start, complete=not more)
    if gz:
        notes.insert(0, "Read as gzip-compressed CSV.")
    sample = codecs.getincrementaldecoder(encoding)(errors="replace").decode(start, final=not more)
    if start.startswith(codecs.BOM_UTF8) and not label.startswith("utf-8"):
        sample = sample.removeprefix(codecs.BOM_UTF8.decode(encoding))
    sample = _clean_sample(sample, notes)
    check_text_kind(sample)
    first, _, rest = sample.partition("\n")
    skip, delimiter = 0, None
    match = _SEP_LINE.match(first)
    if match and match.group(1) in config.CSV_DELIMITERS:
        delimiter, skip, sample = match.group(1), 1, rest
        notes.append(f"Used the Excel 'sep={delimiter}' line: delimiter {_DELIMITER_NAMES[delimiter]}.")
    if delimiter is None:
        delimiter = detect_delimiter(sample, truncated=more)
        if delimiter != ",":
            notes.append(f"Delimiter {_DELIMITER_NAMES[delimiter]} detected.")
    check_is_table(sample, delimiter, truncated=more)
    bad_utf8 = label.startswith("utf-8") and not _is_utf8(start.removeprefix(codecs.BOM_UTF8), not more)
    read_bom = start.startswith(codecs.BOM_UTF8) and not label.startswith("utf-8")
    bom = codecs.BOM_UTF8.decode(encoding) if read_bom else ""
    return _Format(encoding, label, delimiter, skip, notes, count_replaced=bad_utf8, strip_first=bom)


def check_magic(data: bytes) -> None:
    """Refuse files whose first bytes say they are an archive, spreadsheet, PDF..."""
    for magic, message in _MAGIC:
        if data.startswith(magic):
            raise DataError(message)


def sniff_encoding(data: bytes, complete: bool = True) -> tuple[str, str, list[str]]:
    """(codec, label, notes): a BOM; UTF-32/UTF-16 by their NUL pattern; UTF-8; else Windows-1252/Latin-1.

    `complete`: data is the whole file (else a cut last character is not an error).
    """
    for bom, encoding, label in _BOMS:
        if data.startswith(bom):
            if encoding == "utf-8-sig" and not _is_utf8(data, complete):
                break  # a UTF-8 BOM, then stray bytes: as without BOM
            _check_decodes(data, encoding, label, complete)
            return encoding, encoding, [f"Read as {label} (BOM found)."]
    wide = guess_utf32(data) or guess_utf16(data)
    if wide:
        _check_decodes(data, wide, wide.upper(), complete)
        return wide, wide, [f"Read as {wide.upper()} (no BOM; detected from the byte pattern)."]
    if _is_utf8(data, complete):
        return "utf-8-sig", "utf-8", []  # -sig: a BOM after stray bytes' check above is still dropped
    replaced = data.decode("utf-8", errors="replace")
    bad = replaced.count("\ufffd")
    good_non_ascii = len(replaced) - len(replaced.encode("ascii", errors="ignore")) - bad
    # Real UTF-8 multi-byte characters outnumbering the bad bytes means a mostly UTF-8 file with a few
    # stray bytes (files glued together); decoding all of it as cp1252 would garble the good part.
    if good_non_ascii > bad:
        return "utf-8-sig", "utf-8", []  # the replaced bytes are counted and noted while the rows stream
    try:
        data.decode("cp1252")
        return "cp1252", "cp1252", ["Read as Windows-1252 (the file is not valid UTF-8)."]
    except UnicodeDecodeError:
        return "latin-1", "latin-1", ["Read as Latin-1 (the file is neither UTF-8 nor Windows-1252)."]


def _is_utf8(data: bytes, complete: bool) -> bool:
    try:
        codecs.getincrementaldecoder("utf-8")().decode(data, final=complete)
    except UnicodeDecodeError:
        return False
    return True


def _check_decodes(data: bytes, encoding: str, label: str, complete: bool) -> None:
    """Decode with a codec the file claims to use, or say it is broken."""
    try:
        codecs.getincrementaldecoder(encoding)().decode(data, final=complete)
    except UnicodeDecodeError as exc:
        raise DataError(
            f"The file looks like {label} but has invalid bytes at byte {exc.start}: {SAVE_AS_CSV}."
        ) from exc


def guess_utf16(sample: bytes) -> str | None:
    """'utf-16-le'/'utf-16-be' when ASCII-range text shows NULs at every odd/even byte, else None."""
    half = min(len(sample), config.SNIFF_WIDE_BYTES) // 2
    if half < 2:
        return None
    even_nuls = sample[0 : 2 * half : 2].count(0)
    odd_nuls = sample[1 : 2 * half : 2].count(0)
    # Mostly-ASCII UTF-16 has a NUL in (nearly) every other byte; random binary has few, evenly spread.
    if odd_nuls > 0.3 * half and even_nuls < 0.05 * half:
        return "utf-16-le"
    if even_nuls > 0.3 * half and odd_nuls < 0.05 * half:
        return "utf-16-be"
    return None


def guess_utf32(sample: bytes) -> str | None:
    """'utf-32-le'/'utf-32-be' when ASCII-range text shows three NULs in every four bytes, else None."""
    quarter = min(len(sample), config.SNIFF_WIDE_BYTES) // 4
    if quarter < 2:
        return None
    at = [sample[i : 4 * quarter : 4].count(0) for i in range(4)]
    if at[0] < 0.05 * quarter and min(at[1:]) > 0.9 * quarter:
        return "utf-32-le"
    if at[3] < 0.05 * quarter and min(at[:3]) > 0.9 * quarter:
        return "utf-32-be"
    return None


def _clean_sample(text: str, notes: list[str]) -> str:
    """The sample as the parser will see it: no BOM characters, NULs out (many of them: binary), \\n line ends."""
    text = text.lstrip("\ufeff")
    nuls = text.count("\x00")
    # A handful of NULs is a broken export; many means a binary file.
    if nuls > max(1, len(text) // 1000):
        raise DataError(f"This file holds binary data, not text: {SAVE_AS_CSV}.")
    if "\r" in text and "\n" not in text:
        notes.append("Converted old Mac line endings (CR) to newlines.")
    return text.replace("\x00", "").replace("\r\n", "\n").replace("\r", "\n")


def check_text_kind(text: str) -> None:
    """Refuse decoded text that is binary, HTML or JSON rather than CSV."""
    sample = text[: config.SNIFF_CHARS]
    controls = sum(1 for ch in sample if ord(ch) < 32 and ch not in "\t\n\x0b\x0c")
    if controls > max(2, len(sample) // 100):
        raise DataError(f"This file holds binary data, not text: {SAVE_AS_CSV}.")
    head = sample[:1000].lstrip().lower()
    if head.startswith(("<!doctype html", "<html", "<?xml")) or "<html" in head[:300]:
        raise DataError("This looks like a web page or XML, not CSV: download the raw .csv file instead.")
    if _JSON_START.match(sample[:1000]):
        raise DataError("This looks like JSON, not CSV: convert it to CSV with a text column and a label column.")
    if not text.strip():
        raise DataError(f'The file is empty: {SAVE_AS_CSV} with a header row "text,label".')


def _reader(lines: Iterable[str], delimiter: str) -> csv.reader:
    """The one csv dialect used everywhere; skipinitialspace so `a, "b, c"` is two fields."""
    return csv.reader(lines, delimiter=delimiter, skipinitialspace=True)


def _sample_records(text: str, delimiter: str, truncated: bool) -> list[list[str]]:
    records = [r for r in _reader(io.StringIO(text[: config.SNIFF_CHARS]), delimiter) if r and "".join(r).strip()]
    if (truncated or len(text) > config.SNIFF_CHARS) and len(records) > 1:
        records = records[:-1]  # probably cut in the middle
    return records


def detect_delimiter(text: str, truncated: bool = False) -> str:
    """Pick the delimiter whose header has 2+ fields and whose rows most often have as many."""
    best, best_score = config.CSV_DELIMITERS[0], -1.0
    for delimiter in config.CSV_DELIMITERS:
        try:
            records = _sample_records(text, delimiter, truncated)
        except csv.Error:
            continue
        if not records or len(records[0]) < 2:
            continue
        width = len(records[0])
        body = [_trim_trailing(r, width) for r in records[1:]]
        score = sum(len(r) == width for r in body) / len(body) if body else 1.0
        if score > best_score:  # strict: ties go to the earlier (more common) delimiter
            best, best_score = delimiter, score
    return best


def check_is_table(text: str, delimiter: str, truncated: bool = False) -> None:
    """Refuse prose (a page of text saved as .csv/.txt): lines that disagree with the first on their field count,
    under a first line that reads as a sentence rather than column names (or most lines disagreeing)."""
    try:
        records = _sample_records(text, delimiter, truncated)
    except csv.Error:
        return  # the parser names the line
    if len(records) < 2:
        return
    header, width = records[0], len(records[0])
    body = [_trim_trailing(r, width) for r in records[1:]]
    longer = [i for i, r in enumerate(body) if len(r) > width]
    if not longer:
        return
    sentence = any(len(f.split()) >= 4 or f.strip().endswith((".", "!", "?")) for f in header)
    mostly_ragged = len(body) >= config.TABLE_CHECK_MIN_ROWS and (
        len(longer) / len(body) >= config.TABLE_CHECK_LONGER_SHARE
        and sum(len(r) == width for r in body) / len(body) < config.TABLE_CHECK_SAME_SHARE
    )
    if sentence or mostly_ragged:
        raise DataError(
            "This file does not look like a table with a header row (its lines have different numbers of "
            f"{_DELIMITER_NAMES[delimiter]}-separated fields): {GOOD_FILE}, with texts that contain the delimiter "
            "in double quotes."
        )


# --- streaming the rows ------------------------------------------------------------------------------------------


@contextmanager
def _open_text(path: Path, encoding: str) -> Iterator[IO[str]]:
    raw = _open_binary(path)
    # newline="": the csv module sees \r, \n and \r\n as they are and keeps quoted newlines inside fields.
    text = io.TextIOWrapper(raw, encoding=encoding, errors="replace", newline="")
    try:
        yield text
    finally:
        text.close()


def _lines(text: IO[str], fmt: _Format) -> Iterator[str]:
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
    yield _EOF_SENTINEL


def _records(lines: Iterator[str], delimiter: str, offset: int, name: str) -> Iterator[tuple[int, list[str]]]:
    """(first line number, fields) of every non-blank record; a broken record is a one-line DataError."""
    csv.field_size_limit(max(csv.field_size_limit(), config.MAX_UPLOAD_MB * 1024 * 1024))
    reader = _reader(lines, delimiter)
    last = 0
    while True:
        try:
            record = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise DataError(f"Line {last + 1 + offset} is not valid CSV ({exc}): fix that line.") from exc
        start, last = last + 1, reader.line_num
        if record == [_EOF_SENTINEL] or (len(record) <= 1 and not "".join(record).strip()):
            continue  # blank line
        if record[-1].endswith(_EOF_SENTINEL):
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
        record = _trim_trailing(record, self.width)
        if len(record) > self.width and last > first:
            raise DataError(
                f"Lines {first}-{last} read as one row of {len(record)} fields (the header has {self.width}): "
                f'check for a double quote (") on line {first} that is not closed.'
            )
        if len(record) > self.width:
            raise DataError(
                f"Line {first} has {len(record)} fields but the header has {self.width}: wrap texts that contain "
                f"{_DELIMITER_NAMES[self.delimiter]} in double quotes, or fix that line."
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


def _trim_trailing(row: list[str], width: int) -> list[str]:
    """Drop empty fields past `width` (trailing delimiters)."""
    while len(row) > width and not row[-1].strip():
        row = row[:-1]
    return row


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
