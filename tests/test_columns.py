"""Unit tests of bertdemo.columns: which column is the text and which the label."""

from __future__ import annotations

import pytest

from bertdemo.data import read_labeled_csv
from tests.helpers import ROWS, csv_text, refused, write_text

# --- columns ----------------------------------------------------------------------------------------------------


def test_known_column_names_any_case_and_order(tmp_path):
    rows = [(lab, "5", t) for t, lab in ROWS]
    data = read_labeled_csv(write_text(tmp_path, csv_text(rows, header=(" Sentiment ", "stars", "REVIEW"))))
    assert (data.text_column, data.label_column) == ("REVIEW", "Sentiment")
    assert data.columns == ["Sentiment", "stars", "REVIEW"]
    assert data.texts[0] == ROWS[0][0]


def test_label_name_preference_order(tmp_path):
    rows = [(t, "x", lab) for t, lab in ROWS]
    data = read_labeled_csv(write_text(tmp_path, csv_text(rows, header=("text", "category", "label"))))
    assert data.label_column == "label" and set(data.labels) == {"positive", "negative"}


def test_two_unknown_columns_pick_longer_as_text(tmp_path):
    rows = [(lab, t) for t, lab in ROWS]
    data = read_labeled_csv(write_text(tmp_path, csv_text(rows, header=("verdict", "feedback"))))
    assert (data.text_column, data.label_column) == ("feedback", "verdict")
    assert any("No column named text/label" in n for n in data.notes)


def test_two_columns_one_known_takes_the_other(tmp_path):
    data = read_labeled_csv(write_text(tmp_path, csv_text(ROWS, header=("text", "verdict"))))
    assert data.label_column == "verdict"


def test_explicit_columns_override(tmp_path):
    rows = [(t, lab, "spam" if i % 2 else "ham") for i, (t, lab) in enumerate(ROWS)]
    path = write_text(tmp_path, csv_text(rows, header=("text", "label", "other")))
    data = read_labeled_csv(path, label_column="other")
    assert data.label_column == "other" and set(data.labels) == {"ham", "spam"}
    data = read_labeled_csv(path, text_column=" TEXT ", label_column="Other")  # case/space-insensitive
    assert (data.text_column, data.label_column) == ("text", "other")


def test_explicit_column_missing_lists_columns(tmp_path):
    path = write_text(tmp_path, csv_text(ROWS))
    message = refused(path, text_column="body")
    assert "'body' not found" in message and "'text', 'label'" in message and "--text-column" in message


def test_text_and_label_column_must_differ(tmp_path):
    assert "pick two different columns" in refused(
        write_text(tmp_path, csv_text(ROWS)), text_column="text", label_column="text"
    )


def test_no_known_columns_among_three(tmp_path):
    rows = [(t, lab, "x") for t, lab in ROWS]
    message = refused(write_text(tmp_path, csv_text(rows, header=("a", "b", "c"))))
    assert message == "CSV needs a text column and a label column; found columns: 'a', 'b', 'c'. " + (
        "Pass --text-column/--label-column."
    )


def test_duplicate_column_names(tmp_path):
    rows = [(t, lab, lab) for t, lab in ROWS]
    assert "appears twice" in refused(write_text(tmp_path, csv_text(rows, header=("text", "label", "Label"))))


@pytest.mark.parametrize("header", [("0", "1"), ("It was great, loved it", "positive")])
def test_header_that_is_data(tmp_path, header):
    rows = [(t, "1" if lab == "positive" else "0") for t, lab in ROWS] if header[0] == "0" else ROWS
    assert 'add a header line "text,label"' in refused(write_text(tmp_path, csv_text(rows, header=header)))


def test_unnamed_index_column_and_trailing_empty_columns(tmp_path):
    body = "".join(f'{i},"{t}",{lab},,\n' for i, (t, lab) in enumerate(ROWS))
    data = read_labeled_csv(write_text(tmp_path, ",text,label,,\n" + body))
    assert data.columns == ["column_1", "text", "label"]
    assert len(data.texts) == len(ROWS)
