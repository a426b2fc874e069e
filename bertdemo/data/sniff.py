"""What a CSV file's start says, read once: compression, format, encoding, Excel's `sep=` line, delimiter, and
whether it is a table at all. bertdemo.data.csvread streams the rows with what this finds."""

from __future__ import annotations

import codecs
import csv
import gzip
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from bertdemo import config
from bertdemo.errors import DataError

SAVE_AS_CSV = "save it as CSV (UTF-8)"
GOOD_FILE = 'a good file has a header line such as "text,label", then one example per line'
_GZIP_MAGIC = b"\x1f\x8b"
DELIMITER_NAMES = {",": "','", ";": "';'", "\t": "tab", "|": "'|'"}

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
class CsvFormat:
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


def open_binary(path: Path) -> IO[bytes]:
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


def sniff(path: Path) -> CsvFormat:
    """Read the start once: format, encoding, sep= line, delimiter, and that it is a table of text at all."""
    with open_binary(path) as raw:
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
        notes.append(f"Used the Excel 'sep={delimiter}' line: delimiter {DELIMITER_NAMES[delimiter]}.")
    if delimiter is None:
        delimiter = detect_delimiter(sample, truncated=more)
        if delimiter != ",":
            notes.append(f"Delimiter {DELIMITER_NAMES[delimiter]} detected.")
    check_is_table(sample, delimiter, truncated=more)
    bad_utf8 = label.startswith("utf-8") and not _is_utf8(start.removeprefix(codecs.BOM_UTF8), not more)
    read_bom = start.startswith(codecs.BOM_UTF8) and not label.startswith("utf-8")
    bom = codecs.BOM_UTF8.decode(encoding) if read_bom else ""
    return CsvFormat(encoding, label, delimiter, skip, notes, count_replaced=bad_utf8, strip_first=bom)


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


def csv_reader(lines: Iterable[str], delimiter: str) -> csv.reader:
    """The one csv dialect used everywhere; skipinitialspace so `a, "b, c"` is two fields."""
    return csv.reader(lines, delimiter=delimiter, skipinitialspace=True)


def _sample_records(text: str, delimiter: str, truncated: bool) -> list[list[str]]:
    records = [r for r in csv_reader(io.StringIO(text[: config.SNIFF_CHARS]), delimiter) if r and "".join(r).strip()]
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
        body = [trim_trailing(r, width) for r in records[1:]]
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
    body = [trim_trailing(r, width) for r in records[1:]]
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
            f"{DELIMITER_NAMES[delimiter]}-separated fields): {GOOD_FILE}, with texts that contain the delimiter "
            "in double quotes."
        )


def trim_trailing(row: list[str], width: int) -> list[str]:
    """Drop empty fields past `width` (trailing delimiters)."""
    while len(row) > width and not row[-1].strip():
        row = row[:-1]
    return row
