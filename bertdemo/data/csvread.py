"""Raw CSV reading: size and format checks, encoding, delimiter, and the records as strings.

Nothing here knows about text or label columns; bertdemo.data.labeled builds on the RawTable it returns.
Row shape rules (documented for users in the messages):
  * blank lines are skipped and not counted;
  * a row with fewer fields than the header is padded with empty fields (and noted), so it is kept
    or dropped later only by whether its text and label are there;
  * a row with more fields than the header is an error naming its line, unless the extra fields
    are all empty (trailing delimiters, as Excel writes them), which are ignored.
"""

from __future__ import annotations

import codecs
import csv
import io
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path

from bertdemo import config
from bertdemo.errors import DataError

log = logging.getLogger(__name__)

SAVE_AS_CSV = "save it as CSV (UTF-8)"
_EOF_SENTINEL = "\x00"  # NULs are removed before parsing, so this can only come from us
_UTF16_SAMPLE_BYTES = 4096
_DELIMITER_NAMES = {",": "','", ";": "';'", "\t": "tab", "|": "'|'"}

# Leading bytes of formats people rename to .csv, with what to tell them.
_MAGIC = (
    (b"PK\x03\x04", f"This looks like a ZIP/Excel file, not CSV: {SAVE_AS_CSV}."),
    (b"PK\x05\x06", f"This looks like a ZIP/Excel file, not CSV: {SAVE_AS_CSV}."),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", f"This looks like an old Excel (.xls) or Word file, not CSV: {SAVE_AS_CSV}."),
    (b"\x1f\x8b", "This is a gzip-compressed file, not CSV: decompress it first and use the .csv inside."),
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
_SEP_LINE = re.compile(r"^sep=(.)\s*\n", re.IGNORECASE)  # Excel's "sep=;" first line
_JSON_START = re.compile(r'^\s*(\[\s*)?\{\s*"')


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


def read_table(path: str | Path) -> RawTable:
    """Read a CSV file into a RawTable, or raise DataError saying what is wrong with it."""
    path = check_path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise DataError(f"Cannot read {path.name} ({exc.strerror or exc}): check the file's permissions.") from exc
    if not data.strip():
        raise DataError(f'{path.name} is empty: save your data as CSV with a header row "text,label".')
    check_magic(data)
    text, encoding, notes = decode(data)
    text = clean_text(text, notes)
    check_text_kind(text)
    text, delimiter, line_offset = take_sep_line(text, notes)
    if delimiter is None:
        delimiter = detect_delimiter(text)
        if delimiter != ",":
            notes.append(f"Delimiter {_DELIMITER_NAMES[delimiter]} detected.")
    columns, rows = parse(text, delimiter, line_offset, notes, path.name)
    columns, rows = tidy_columns(columns, rows, notes)
    log.debug("read %s: %d rows, %d columns, %s, %r", path.name, len(rows), len(columns), encoding, delimiter)
    return RawTable(columns, rows, encoding, delimiter, notes)


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


def check_magic(data: bytes) -> None:
    """Refuse files whose first bytes say they are an archive, spreadsheet, PDF..."""
    for magic, message in _MAGIC:
        if data.startswith(magic):
            raise DataError(message)


def decode(data: bytes) -> tuple[str, str, list[str]]:
    """Decode the bytes: BOM, then UTF-16 by NUL pattern, then UTF-8, then Windows-1252/Latin-1."""
    for bom, encoding, label in _BOMS:
        if data.startswith(bom):
            if encoding == "utf-8-sig" and not _is_utf8(data):
                return _decode_not_utf8(data[len(bom) :])  # a UTF-8 BOM, then stray bytes: as without BOM
            return _decode_or_fail(data, encoding, label), encoding, [f"Read as {label} (BOM found)."]
    utf16 = guess_utf16(data[:_UTF16_SAMPLE_BYTES])
    if utf16:
        text = _decode_or_fail(data, utf16, utf16.upper())
        return text, utf16, [f"Read as {utf16.upper()} (no BOM; detected from the byte pattern)."]
    try:
        return data.decode("utf-8"), "utf-8", []
    except UnicodeDecodeError:
        pass
    return _decode_not_utf8(data)


def _is_utf8(data: bytes) -> bool:
    """Whether the bytes are valid UTF-8."""
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _decode_or_fail(data: bytes, encoding: str, label: str) -> str:
    """Decode with a codec the file claims to use, or say it is broken."""
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise DataError(
            f"The file looks like {label} but has invalid bytes at byte {exc.start}: {SAVE_AS_CSV}."
        ) from exc


def guess_utf16(sample: bytes) -> str | None:
    """'utf-16-le'/'utf-16-be' when ASCII-range text shows NULs at every odd/even byte, else None."""
    half = len(sample) // 2
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


def _decode_not_utf8(data: bytes) -> tuple[str, str, list[str]]:
    """Invalid UTF-8: a few bad bytes in UTF-8 text are replaced; otherwise Windows-1252 (Excel)."""
    replaced = data.decode("utf-8", errors="replace")
    bad = replaced.count("\ufffd")
    good_non_ascii = len(replaced) - len(replaced.encode("ascii", errors="ignore")) - bad
    # Real UTF-8 multi-byte characters outnumbering the bad bytes means a mostly UTF-8 file with a few
    # stray bytes (files glued together); decoding all of it as cp1252 would garble the good part.
    if good_non_ascii > bad:
        return replaced, "utf-8", [f"Read as UTF-8; {bad:,} invalid byte(s) replaced with '\ufffd'."]
    try:
        return data.decode("cp1252"), "cp1252", ["Read as Windows-1252 (the file is not valid UTF-8)."]
    except UnicodeDecodeError:
        return data.decode("latin-1"), "latin-1", ["Read as Latin-1 (the file is neither UTF-8 nor Windows-1252)."]


def clean_text(text: str, notes: list[str]) -> str:
    """Drop BOM characters and rare NULs, and make every line end in a plain newline."""
    text = text.lstrip("\ufeff")
    nuls = text.count("\x00")
    if nuls:
        # A handful of NULs is a broken export; many means a binary file (refused below).
        if nuls > max(1, len(text) // 1000):
            raise DataError(f"This file holds binary data, not text: {SAVE_AS_CSV}.")
        text = text.replace("\x00", "")
        notes.append(f"Removed {nuls:,} NUL character(s).")
    if "\r" in text:
        if "\n" not in text:
            notes.append("Converted old Mac line endings (CR) to newlines.")
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text


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


def take_sep_line(text: str, notes: list[str]) -> tuple[str, str | None, int]:
    """Honour and remove Excel's 'sep=X' first line; returns text, delimiter (or None), lines removed."""
    match = _SEP_LINE.match(text)
    if not match or match.group(1) not in config.CSV_DELIMITERS:
        return text, None, 0
    delimiter = match.group(1)
    notes.append(f"Used the Excel 'sep={delimiter}' line: delimiter {_DELIMITER_NAMES[delimiter]}.")
    return text[match.end() :], delimiter, 1


def _reader(text: str, delimiter: str) -> csv.reader:
    """The one csv dialect used everywhere; skipinitialspace so `a, "b, c"` is two fields."""
    return csv.reader(io.StringIO(text), delimiter=delimiter, skipinitialspace=True)


def detect_delimiter(text: str) -> str:
    """Pick the delimiter whose header has 2+ fields and whose rows most often have as many."""
    sample = text[: config.SNIFF_CHARS]
    truncated = len(text) > len(sample)
    best, best_score = config.CSV_DELIMITERS[0], -1.0
    for delimiter in config.CSV_DELIMITERS:
        try:
            records = [r for r in _reader(sample, delimiter) if r]
        except csv.Error:
            continue
        if truncated and len(records) > 1:
            records = records[:-1]  # probably cut in the middle
        if not records or len(records[0]) < 2:
            continue
        width = len(records[0])
        body = [_trim_trailing(r, width) for r in records[1:]]
        score = sum(len(r) == width for r in body) / len(body) if body else 1.0
        if score > best_score:  # strict: ties go to the earlier (more common) delimiter
            best, best_score = delimiter, score
    return best


def _trim_trailing(row: list[str], width: int) -> list[str]:
    """Drop empty fields past `width` (trailing delimiters)."""
    while len(row) > width and not row[-1].strip():
        row = row[:-1]
    return row


def parse(
    text: str, delimiter: str, line_offset: int, notes: list[str], name: str
) -> tuple[list[str], list[list[str]]]:
    """Header and data rows; rows padded/trimmed to the header's width (see the module docstring)."""
    csv.field_size_limit(max(csv.field_size_limit(), config.MAX_UPLOAD_MB * 1024 * 1024))
    reader = _reader(text + "\n" + _EOF_SENTINEL, delimiter)
    header: list[str] | None = None
    rows: list[list[str]] = []
    padded = 0
    last_line = 0
    try:
        for record in reader:
            start, last_line = last_line + 1, reader.line_num
            if record == [_EOF_SENTINEL] or (len(record) <= 1 and not "".join(record).strip()):
                continue  # blank line
            if record[-1].endswith(_EOF_SENTINEL):
                raise DataError(
                    f'Line {start + line_offset} opens a double quote (") that is never closed: '
                    "close or remove it, then save the file again."
                )
            if header is None:
                header = record
                continue
            record = _trim_trailing(record, len(header))
            if len(record) > len(header) and reader.line_num > start:
                raise DataError(
                    f"Lines {start + line_offset}-{reader.line_num + line_offset} read as one row of {len(record)} "
                    f'fields (the header has {len(header)}): check for a double quote (") on line '
                    f"{start + line_offset} that is not closed."
                )
            if len(record) > len(header):
                raise DataError(
                    f"Line {start + line_offset} has {len(record)} fields but the header has {len(header)}: "
                    f"wrap texts that contain {_DELIMITER_NAMES[delimiter]} in double quotes, or fix that line."
                )
            if len(record) < len(header):
                padded += 1
                record = record + [""] * (len(header) - len(record))
            rows.append(record)
    except csv.Error as exc:
        raise DataError(f"Line {last_line + 1 + line_offset} is not valid CSV ({exc}): fix that line.") from exc
    if header is None:
        raise DataError(f'{name} is empty: save your data as CSV with a header row "text,label".')
    if not rows:
        raise DataError(f"{name} has a header row but no data rows: add one row per example under the header.")
    if padded:
        notes.append(f"{padded:,} row(s) had fewer fields than the header; the missing fields were read as empty.")
    return header, rows


def tidy_columns(columns: list[str], rows: list[list[str]], notes: list[str]) -> tuple[list[str], list[list[str]]]:
    """Strip names, drop empty unnamed columns, name the other unnamed ones, refuse duplicates."""
    names = [c.strip() for c in columns]
    keep = [i for i, n in enumerate(names) if n or any(r[i].strip() for r in rows)]
    if len(keep) < len(names):
        notes.append(f"Ignored {len(names) - len(keep)} empty column(s) without a name.")
        names = [names[i] for i in keep]
        rows = [[r[i] for i in keep] for r in rows]
    if not names:
        raise DataError('The first row (the header) is empty: add a header line "text,label" at the top of the file.')
    for i, name in enumerate(names):
        if not name:
            names[i] = f"column_{i + 1}"
            notes.append(f"Column {i + 1} has no name; called it {names[i]!r}.")
    seen: dict[str, str] = {}
    for name in names:
        key = name.casefold()
        if key in seen:
            raise DataError(
                f"Column name {show(name)} appears twice in the header: rename one so every column name is unique."
            )
        seen[key] = name
    return names, rows
