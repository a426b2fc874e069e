"""Training and batch prediction read a file the same way: one reader, one column picker, one label reading.

Each file is read through both public paths: the data report (`inspect`, as training reads it) and batch
prediction (`predict --csv`: which columns it would use, and a real run labeling the file).
"""

from __future__ import annotations

import codecs
import csv
import gzip
import io
import json

import pytest

from bertdemo import config, service
from bertdemo.data.csvread import count_rows, open_table, read_table
from bertdemo.errors import BertDemoError, DataError
from bertdemo.inference.batchpredict import predict_file
from tests.helpers import make_tiny_run
from tests.test_bad_inputs import BAD_DIR, CASES

REVIEWS = [
    ("A warm, funny film; I loved every minute.", "positive"),
    ("Dull, slow and far too long.", "negative"),
    ("The best meal I have had in years.", "positive"),
    ("Broken on arrival; a waste of money.", "negative"),
    ("Lovely staff and a spotless room.", "positive"),
    ("Rude waiter, cold soup, never again.", "negative"),
]


def _text(rows, delimiter=",", header=("text", "label")) -> str:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


def excel_sep_line(path):
    path.write_text("sep=;\n" + _text(REVIEWS, ";"), encoding="utf-8")
    return path


def utf32_bom(path):
    path.write_bytes(_text(REVIEWS).encode("utf-32"))  # Python writes the BOM
    return path


def utf32_no_bom(path):
    path.write_bytes(_text(REVIEWS).encode("utf-32-le"))
    return path


def ag_news_kaggle(path):
    """Kaggle's AG News: a short Title, the long Description holds the text, Class Index the label."""
    rows = [
        (str(1 + i % 4), f"Headline {i}", f"A much longer description of news story number {i}, with detail.")
        for i in range(12)
    ]
    path.write_text(_text(rows, header=("Class Index", "Title", "Description")), encoding="utf-8")
    return path


def float_labels(path):
    path.write_text(_text([(t, "1.0" if lab == "positive" else "0.0") for t, lab in REVIEWS]), encoding="utf-8")
    return path


def gzipped(path):
    path = path.with_suffix(".csv.gz")
    with gzip.open(path, "wt", encoding="utf-8", newline="") as fh:
        fh.write(_text(REVIEWS))
    return path


MAKERS = {f.__name__: f for f in (excel_sep_line, utf32_bom, utf32_no_bom, ag_news_kaggle, float_labels, gzipped)}
EXPECTED_TEXT = {"ag_news_kaggle": "Description"}
EXPECTED_LABEL = {"ag_news_kaggle": "Class Index"}


@pytest.mark.parametrize("maker", list(MAKERS))
def test_the_data_report_and_batch_prediction_pick_the_same_columns(maker, tmp_path) -> None:
    path = MAKERS[maker](tmp_path / f"{maker}.csv")
    report = service.inspect(path)
    picked = service.csv_columns(path)
    assert report["text_column"] == picked["text_column"] == EXPECTED_TEXT.get(maker, "text")
    assert report["label_column"] == picked["label_column"] == EXPECTED_LABEL.get(maker, "label")
    assert "\x00" not in "".join(picked["columns"])


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("models")
    make_tiny_run(root, "reviews", ["negative", "positive"])
    make_tiny_run(root, "news", ["1", "2", "3", "4"])
    make_tiny_run(root, "binary", ["0", "1"])
    return root


@pytest.mark.parametrize("maker", list(MAKERS))
def test_batch_prediction_labels_and_scores_every_row_as_training_reads_it(maker, tmp_path, runs) -> None:
    path = MAKERS[maker](tmp_path / f"{maker}.csv")
    run = {"ag_news_kaggle": "news", "float_labels": "binary"}.get(maker, "reviews")
    training = read_table(path)
    report = predict_file(run, path, tmp_path / "out.csv", root=runs)
    assert report["rows"] == len(training.rows)
    assert report["text_column"] == EXPECTED_TEXT.get(maker, "text")
    # Gold labels are read as training reads them: '1.0' is the run's '1'; every row is scored.
    assert report["metrics"] is not None and report["metrics"]["scored_rows"] == len(training.rows)
    with open(tmp_path / "out.csv", newline="", encoding="utf-8") as fh:
        out = list(csv.DictReader(fh))
    text = EXPECTED_TEXT.get(maker, "text")
    ti = training.columns.index(text)
    assert [r[text] for r in out] == [row[ti] for row in training.rows]


def test_a_file_that_names_the_runs_own_columns_is_read_with_them(tmp_path, runs) -> None:
    """A run trained on columns review/stars labels a file that has them, whatever else is in it."""
    info_path = runs / "reviews" / "run.json"
    info = json.loads(info_path.read_text())
    info["data"] = {**info["data"], "text_column": "review", "label_column": "stars"}
    info_path.write_text(json.dumps(info))
    try:
        rows = [(f"note {i}", t, lab, "x") for i, (t, lab) in enumerate(REVIEWS)]
        path = tmp_path / "f.csv"
        path.write_text(_text(rows, header=("text", "review", "stars", "label")), encoding="utf-8")
        picked = service.csv_columns(path, "reviews", runs)
        assert (picked["text_column"], picked["label_column"]) == ("review", "stars")
        assert predict_file("reviews", path, tmp_path / "o.csv", root=runs)["label_column"] == "stars"
    finally:
        info["data"].pop("text_column"), info["data"].pop("label_column")
        info_path.write_text(json.dumps(info))


@pytest.mark.parametrize("case", CASES, ids=[c["file"] for c in CASES])
def test_every_bad_input_file_reads_the_same_in_both_paths(case) -> None:
    """Either both paths refuse the file with the same one-line message, or they see the same table."""
    path = BAD_DIR / case["file"]
    try:
        whole = read_table(path)
    except DataError as exc:
        with pytest.raises(BertDemoError) as streamed:
            service.csv_columns(path)
        assert str(streamed.value) == str(exc)
        return
    with open_table(path) as (head, rows):
        streamed_rows = list(rows)
    assert (head.columns, head.encoding, head.delimiter) == (whole.columns, whole.encoding, whole.delimiter)
    assert streamed_rows == whole.rows and count_rows(path) == len(whole.rows)
    if case["expect"] == "accept":
        report = service.inspect(path)
        picked = service.csv_columns(path)
        assert picked["text_column"] == report["text_column"]
        assert picked["label_column"] == report["label_column"]


def test_prose_is_not_a_table(tmp_path) -> None:
    """A page of prose saved as .txt: say it is not a table with a header row, and what a good file looks like."""
    prose = (
        "It was a bright cold day in April, and the clocks were striking thirteen.\n"
        "Winston Smith, his chin nuzzled into his breast in an effort to escape the vile wind, slipped quickly.\n"
        "The hallway smelt of boiled cabbage and old rag mats.\n"
        "At one end of it a coloured poster, too large for indoor display, had been tacked to the wall.\n"
        "It depicted simply an enormous face, more than a metre wide: the face of a man of about forty-five.\n"
        "Winston made for the stairs, and it was no use trying the lift.\n"
        "Even at the best of times it was seldom working, and at present the electric current was cut off.\n"
    )
    path = tmp_path / "page.txt"
    path.write_text(prose, encoding="utf-8")
    for read in (service.inspect, service.csv_columns):
        with pytest.raises(BertDemoError) as info:
            read(path)
        message = str(info.value)
        assert "does not look like a table with a header row" in message and '"text,label"' in message
        assert "\n" not in message


def test_a_small_gzip_that_inflates_too_far_is_refused_quickly(tmp_path, monkeypatch) -> None:
    """A .csv.gz bomb: refused by its inflated size, and a row count stops at the row limit, not at the end."""
    monkeypatch.setattr(config, "MAX_INFLATED_MB", 1)
    path = tmp_path / "bomb.csv.gz"
    with gzip.open(path, "wb") as fh:
        fh.write(b"text\n" + b"a\n" * 1_000_000)  # 2 MB inflated, a few KB on disk
    assert path.stat().st_size < 50_000
    with pytest.raises(DataError, match="inflates to over 1 MB"):
        count_rows(path)
    monkeypatch.setattr(config, "MAX_INFLATED_MB", 200)
    with pytest.raises(DataError, match="more than 1,000 rows"):
        count_rows(path, max_rows=1000)


def test_utf16_and_utf32_without_bom_are_told_apart() -> None:
    from bertdemo.data.sniff import sniff_encoding

    text = _text(REVIEWS)
    assert sniff_encoding(text.encode("utf-32-le"))[0] == "utf-32-le"
    assert sniff_encoding(text.encode("utf-32-be"))[0] == "utf-32-be"
    assert sniff_encoding(text.encode("utf-16-le"))[0] == "utf-16-le"
    assert sniff_encoding(codecs.BOM_UTF32_LE + text.encode("utf-32-le"))[0] == "utf-32"
