"""Unit tests of bertdemo.data.labeled and bertdemo.data.csvread.

Encodings, delimiters, rows, labels, sampling, shared data.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bertdemo import config
from bertdemo.data.labeled import read_labeled_csv
from bertdemo.data.splits import split_data
from tests.helpers import ROWS, csv_text, refused, write_text

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"

# --- encodings, delimiters, line endings ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("encoding", "prefix", "expected", "note"),
    [
        ("utf-8", b"", "utf-8", None),
        ("utf-8", b"\xef\xbb\xbf", "utf-8-sig", "Read as UTF-8 (BOM found)."),
        ("utf-16", b"", "utf-16", "Read as UTF-16 (BOM found)."),
        ("utf-16-le", b"", "utf-16-le", "Read as UTF-16-LE (no BOM; detected from the byte pattern)."),
        ("utf-16-be", b"", "utf-16-be", "Read as UTF-16-BE (no BOM; detected from the byte pattern)."),
        ("utf-32", b"", "utf-32", "Read as UTF-32 (BOM found)."),
        ("cp1252", b"", "cp1252", "Read as Windows-1252 (the file is not valid UTF-8)."),
    ],
)
def test_encodings_round_trip(tmp_path, encoding, prefix, expected, note):
    path = tmp_path / "enc.csv"
    path.write_bytes(prefix + csv_text(ROWS, newline="\r\n").encode(encoding))
    data = read_labeled_csv(path)
    assert data.encoding == expected
    assert data.texts == [t for t, _ in ROWS]
    assert data.columns == ["text", "label"]
    if note:
        assert note in data.notes


def test_latin1_only_bytes_fall_back_to_latin1(tmp_path):
    # 0x81 is undefined in Windows-1252, so only Latin-1 can decode this file.
    path = tmp_path / "l1.csv"
    path.write_bytes(b"text,label\ncaf\xe9 \x81ok,a\nbad,b\n")
    data = read_labeled_csv(path)
    assert data.encoding == "latin-1" and data.texts[0] == "café \x81ok"


def test_mostly_utf8_with_a_stray_byte_stays_utf8(tmp_path):
    path = tmp_path / "mixed.csv"
    path.write_bytes(csv_text(ROWS).encode() + "naïve,neutral\n".encode("cp1252"))
    data = read_labeled_csv(path)
    assert data.encoding == "utf-8"
    assert data.texts[0] == ROWS[0][0]  # the good part is not garbled
    assert data.texts[-1] == "na\ufffdve"
    assert any("invalid byte" in n for n in data.notes)


@pytest.mark.parametrize(("delimiter", "note"), [(",", None), (";", "';'"), ("\t", "tab"), ("|", "'|'")])
def test_delimiters(tmp_path, delimiter, note):
    data = read_labeled_csv(write_text(tmp_path, csv_text(ROWS, delimiter=delimiter)))
    assert data.delimiter == delimiter
    assert data.texts == [t for t, _ in ROWS]
    assert data.labels == [lab for _, lab in ROWS]
    if note:
        assert f"Delimiter {note} detected." in data.notes
    else:
        assert not any("Delimiter" in n for n in data.notes)


def test_excel_sep_line(tmp_path):
    data = read_labeled_csv(write_text(tmp_path, "sep=|\n" + csv_text(ROWS, delimiter="|")))
    assert data.delimiter == "|" and len(data.texts) == len(ROWS)


@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"])
def test_quoted_newlines_and_line_endings(tmp_path, newline):
    rows = ROWS + [(f"first line{newline}second, line{newline}{newline}third", "positive")]
    data = read_labeled_csv(write_text(tmp_path, csv_text(rows, newline=newline)))
    assert data.texts[-1] == "first line\nsecond, line\n\nthird"
    assert data.rows_read == len(rows)


def test_bom_before_quoted_header(tmp_path):
    path = tmp_path / "bom.csv"
    path.write_bytes(b'\xef\xbb\xbf"text","label"\r\n"a b",x\r\n"c d",y\r\n')
    data = read_labeled_csv(path)
    assert data.columns == ["text", "label"] and data.text_column == "text"


# --- rows, texts, labels --------------------------------------------------------------------------------------


def test_dropped_rows_are_counted_by_reason(tmp_path):
    rows = ROWS + [("", "positive"), ("  ", "negative"), ("NaN", "negative"), ("ok", ""), ("fine", "N/A"), ("", "")]
    text = csv_text(rows) + "only text and no delimiter\n"
    data = read_labeled_csv(write_text(tmp_path, text))
    assert data.rows_read == len(rows) + 1
    assert data.dropped == {"empty text": 3, "missing label": 3, "blank row": 1}
    assert len(data.texts) == len(ROWS)
    assert any("fewer fields than the header" in n for n in data.notes)


def test_texts_are_stripped_and_injection_kept_verbatim(tmp_path):
    rows = [("  padded text \t", "a"), ("=cmd|' /C calc'!A0", "b"), ("@SUM(A1:A2)", "a"), ("+1 555", "b")]
    data = read_labeled_csv(write_text(tmp_path, csv_text(rows)))
    assert data.texts == ["padded text", "=cmd|' /C calc'!A0", "@SUM(A1:A2)", "+1 555"]


def test_long_texts_are_cut_and_noted(tmp_path):
    rows = [("start " + "word " * 10_000 + "finish", "a"), ("short", "b"), ("short too", "a")]
    data = read_labeled_csv(write_text(tmp_path, csv_text(rows)))
    assert len(data.texts[0]) == config.MAX_TEXT_CHARS
    assert data.texts[0].startswith("start word") and data.texts[0].endswith("word finish")
    assert any(n.startswith("Cut 1 text(s) longer than") for n in data.notes)
    assert all(len(v) <= config.PREVIEW_MAX_CHARS for row in data.preview for v in row.values())


def test_numeric_text_column_is_refused(tmp_path):
    rows = [("1.5", "a"), ("2", "b"), ("-3", "a"), ("1e3", "b")]
    assert refused(write_text(tmp_path, csv_text(rows))) == (
        "Column 'text' holds only numbers, not text: pick the text column."
    )


def test_label_normalization(tmp_path):
    rows = [
        ("a", " Positive  "),
        ("b", "positive"),
        ("c", "positive"),
        ("d", "NEGATIVE"),
        ("e", "negative"),
        ("f", "Negative"),
        ("g", "very   good"),
        ("h", "very good"),
    ]
    data = read_labeled_csv(write_text(tmp_path, csv_text(rows)))
    assert data.labels == ["positive"] * 3 + ["negative"] * 3 + ["very good"] * 2
    assert "Merged labels that differ only in case: 'Positive' -> 'positive'." in data.notes
    assert "Merged labels that differ only in case: 'NEGATIVE', 'Negative' -> 'negative'." in data.notes
    assert any(n.startswith("Trimmed extra spaces in labels") for n in data.notes)


def test_labels_differing_only_in_case_merge_to_lower_case_whatever_spelling_is_most_frequent(tmp_path):
    """One rule for every group: 'POSITIVE' (most rows) and 'Neutral' (most rows) used to keep their majority
    spelling, so the classes read 'POSITIVE', 'Neutral', 'negative'."""
    rows = [("a", "POSITIVE"), ("b", "POSITIVE"), ("c", "Positive"), ("d", "Neutral"), ("e", "Neutral")]
    rows += [("f", "neutral"), ("g", "negative"), ("h", "negative"), ("i", "Other")]
    data = read_labeled_csv(write_text(tmp_path, csv_text(rows)))
    assert data.labels == ["positive"] * 3 + ["neutral"] * 3 + ["negative"] * 2 + ["Other"]
    assert "Merged labels that differ only in case: 'POSITIVE', 'Positive' -> 'positive'." in data.notes
    assert "Merged labels that differ only in case: 'Neutral' -> 'neutral'." in data.notes


def test_float_and_int_labels(tmp_path):
    rows = [("a", "1.0"), ("b", "0.0"), ("c", "1"), ("d", "0"), ("e", "2.00"), ("f", "2"), ("g", "1.5"), ("h", "-1.0")]
    data = read_labeled_csv(write_text(tmp_path, csv_text(rows)))
    assert data.labels == ["1", "0", "1", "0", "2", "2", "1.5", "-1"]
    assert data.class_counts() == {"-1": 1, "0": 2, "1": 2, "1.5": 1, "2": 2}


def test_one_class_is_refused(tmp_path):
    message = refused(write_text(tmp_path, csv_text([(t, "x") for t, _ in ROWS])))
    assert "every row has label 'x': a classifier needs at least two classes" in message.lower()


def test_duplicates_and_conflicts_are_reported(tmp_path):
    rows = ROWS + ROWS[:2] + [(ROWS[0][0], "negative")]
    data = read_labeled_csv(write_text(tmp_path, csv_text(rows)))
    assert len(data.texts) == len(rows)  # kept
    assert data.duplicates == 2
    assert any("more than one label" in w for w in data.warnings)


def test_warnings_small_class_and_imbalance(tmp_path):
    rows = [(f"good {i}", "pos") for i in range(40)] + [(f"bad {i}", "neg") for i in range(3)]
    data = read_labeled_csv(write_text(tmp_path, csv_text(rows)))
    assert any(w.startswith("Class 'neg' has only 3 row(s)") for w in data.warnings)
    assert any(w.startswith("Classes are imbalanced: 'pos' has 40 rows, 'neg' only 3") for w in data.warnings)


def test_preview_and_metadata(tmp_path):
    rows = [(t, lab, str(i)) for i, (t, lab) in enumerate(ROWS * 3)]
    data = read_labeled_csv(write_text(tmp_path, csv_text(rows, header=("text", "label", "id")), name="my file.csv"))
    assert data.source == "my file.csv"
    assert len(data.preview) == config.PREVIEW_ROWS
    assert data.preview[0] == {"text": ROWS[0][0], "label": ROWS[0][1], "id": "0"}
    assert list(data.class_counts()) == ["negative", "positive"]


# --- max_rows -----------------------------------------------------------------------------------------------------


def test_max_rows_sampling(tmp_path):
    rows = [(f"text number {i}", f"c{i % 3}") for i in range(1000)]
    path = write_text(tmp_path, csv_text(rows))
    first = read_labeled_csv(path, max_rows=100, seed=1)
    again = read_labeled_csv(path, max_rows=100, seed=1)
    other = read_labeled_csv(path, max_rows=100, seed=2)
    assert len(first.texts) == 100 and first.rows_read == 1000
    assert first.texts == again.texts and first.texts != other.texts
    assert "Sampled 100 of 1,000 rows (the max rows setting)." in first.notes
    order = [int(t.split()[-1]) for t in first.texts]
    assert order == sorted(order)  # file order kept
    assert len(read_labeled_csv(path, max_rows=None).texts) == 1000
    assert not any("Sampled" in n for n in read_labeled_csv(path, max_rows=1000).notes)


def test_max_rows_must_be_positive(tmp_path):
    assert "Max rows must be at least 1" in refused(write_text(tmp_path, csv_text(ROWS)), max_rows=0)


# --- bundled and shared data ------------------------------------------------------------------------------------


def test_example_reviews_csv():
    data = read_labeled_csv(config.EXAMPLE_CSV)
    counts = data.class_counts()
    assert list(counts) == ["negative", "neutral", "positive"]
    assert 250 <= len(data.texts) <= 400 and max(counts.values()) - min(counts.values()) <= 20
    assert data.notes == [] and data.warnings == [] and data.duplicates == 0 and data.dropped == {}
    assert all(5 <= len(t.split()) <= 40 for t in data.texts)


SHARED = [
    ("sentiment_sentences.csv", 3000, {"negative": 1500, "positive": 1500}, 18),
    ("sst2_dev.csv", 872, {"negative": 428, "positive": 444}, 0),
    ("ag_news_test.csv", 7600, {"Business": 1900, "Sci/Tech": 1900, "Sports": 1900, "World": 1900}, 0),
    ("sms_spam.csv", 5574, {"ham": 4827, "spam": 747}, 415),
]


@pytest.mark.parametrize(("name", "rows", "counts", "duplicates"), SHARED, ids=[s[0] for s in SHARED])
def test_shared_datasets(name, rows, counts, duplicates):
    path = SHARED_DATA / name
    if not path.is_file():
        pytest.skip(f"{path} not present")
    data = read_labeled_csv(path)
    assert data.rows_read == len(data.texts) == rows
    assert data.class_counts() == counts
    assert data.duplicates == duplicates and data.dropped == {}
    assert (data.text_column, data.label_column, data.encoding, data.delimiter) == ("text", "label", "utf-8", ",")
    split = split_data(data)
    assert split.labels == sorted(counts)
    assert len(split.val_texts) == pytest.approx(rows * config.DEFAULT_VAL_FRACTION, abs=len(counts))
