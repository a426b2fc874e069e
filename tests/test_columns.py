"""Unit tests of bertdemo.data.columns: which column is the text and which the label."""

from __future__ import annotations

import pytest

from bertdemo.data.labeled import read_labeled_csv
from bertdemo.errors import ColumnError
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
    with pytest.raises(ColumnError) as err:
        read_labeled_csv(path, text_column="body")
    message = str(err.value)
    assert "'body' not found" in message and "'text', 'label'" in message and "pick the text column" in message
    assert "--" not in message and "--text-column" in err.value.cli_hint  # UI/API messages name no CLI flag
    assert err.value.columns == ["text", "label"]


def test_text_and_label_column_must_differ(tmp_path):
    assert "pick two different columns" in refused(
        write_text(tmp_path, csv_text(ROWS)), text_column="text", label_column="text"
    )


def test_no_known_columns_among_three_detected_by_content(tmp_path):
    rows = [(t, lab, "x") for t, lab in ROWS]  # c is constant: not a label
    data = read_labeled_csv(write_text(tmp_path, csv_text(rows, header=("a", "b", "c"))))
    assert (data.text_column, data.label_column) == ("a", "b")
    assert any("by their contents" in n for n in data.notes)


def reviews(n: int) -> list[tuple[str, str]]:
    """n varied review texts with a sentiment, as a user's export would have them."""
    return [(f"{ROWS[i % len(ROWS)][0]} (order {i}, item {i * 7 % 13})", ROWS[i % len(ROWS)][1]) for i in range(n)]


def test_unlisted_names_semicolon_with_id_and_date(tmp_path):
    """The issue's `id;Review Text;Sentiment;date`: a text named in two words, an id and a date beside."""
    rows = [(str(1000 + i), t, lab, f"2024-03-{1 + i % 28:02d}") for i, (t, lab) in enumerate(reviews(40))]
    path = write_text(tmp_path, csv_text(rows, header=("id", "Review Text", "Sentiment", "date"), delimiter=";"))
    data = read_labeled_csv(path)
    assert (data.text_column, data.label_column) == ("Review Text", "Sentiment")
    assert set(data.labels) == {"positive", "negative"} and data.texts[0].startswith("Très bon café")


def test_unlisted_names_spam_detected_by_content(tmp_path):
    """`msg_id,utterance_en,is_spam`: no known name at all; ids are unique, the flag has two values."""
    rows = [(f"m{i:05d}", t, "1" if lab == "negative" else "0") for i, (t, lab) in enumerate(reviews(30))]
    data = read_labeled_csv(write_text(tmp_path, csv_text(rows, header=("msg_id", "utterance_en", "is_spam"))))
    assert (data.text_column, data.label_column) == ("utterance_en", "is_spam")
    assert set(data.labels) == {"0", "1"}


def test_longer_named_text_wins_over_title(tmp_path):
    """Title and Review Text both name a text: the longer, varied one is the text (a title is a summary)."""
    rows = [(f"Title {i % 5}", t, lab) for i, (t, lab) in enumerate(reviews(20))]
    data = read_labeled_csv(write_text(tmp_path, csv_text(rows, header=("Title", "Review Text", "Rating"))))
    assert data.text_column == "Review Text"
    # AG News as Kaggle ships it: "Class Index","Title","Description".
    rows = [(lab, t.split(",")[0], t) for t, lab in reviews(20)]
    data = read_labeled_csv(write_text(tmp_path, csv_text(rows, header=("Class Index", "Title", "Description"))))
    assert (data.text_column, data.label_column) == ("Description", "Class Index")
    assert any("longer than 'Title'" in n for n in data.notes)
    rows = [(f"A title that is long enough {i}", lab, t) for i, (t, lab) in enumerate(reviews(20))]
    data = read_labeled_csv(write_text(tmp_path, csv_text(rows, header=("title", "label", "comment_en"))))
    assert data.text_column == "title"  # no column twice as long: the title stays the text
    rows = [(t, f"Headline {i % 5}", lab) for i, (t, lab) in enumerate(reviews(20))]
    data = read_labeled_csv(write_text(tmp_path, csv_text(rows, header=("Review Body", "Short Title", "stars"))))
    assert (data.text_column, data.label_column) == ("Review Body", "stars")


def test_undetectable_columns_ask_to_pick_them(tmp_path):
    rows = [(str(i), str(i * 3), str(i * 7)) for i in range(20)]  # numbers only: no text anywhere
    with pytest.raises(ColumnError) as err:
        read_labeled_csv(write_text(tmp_path, csv_text(rows, header=("a", "b", "c"))))
    message = str(err.value)
    assert "pick the text and label columns" in message and "'a', 'b', 'c'" in message and "--" not in message
    assert err.value.columns == ["a", "b", "c"] and "--label-column" in err.value.cli_hint


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


def test_kaggle_sms_spam_with_mostly_empty_extra_columns(tmp_path):
    """v1 (ham/spam), v2 (text) and three "Unnamed" columns filled in a few rows only."""
    rows = [
        (
            "spam" if lab == "negative" else "ham",
            t,
            "a stray long fragment of a message, cut here" if i == 3 else "",
            "",
            "",
        )
        for i, (t, lab) in enumerate(reviews(30))
    ]
    header = ("v1", "v2", "Unnamed: 2", "Unnamed: 3", "Unnamed: 4")
    data = read_labeled_csv(write_text(tmp_path, csv_text(rows, header=header)))
    assert (data.text_column, data.label_column) == ("v2", "v1")
