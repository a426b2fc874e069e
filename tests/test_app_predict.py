"""/predict_file and /explain through gradio_client, against the real app and a tiny run."""

from __future__ import annotations

import csv

import pytest
from gradio_client import Client, handle_file
from gradio_client.exceptions import AppError

from tests.helpers import make_tiny_run, write_csv

pytestmark = pytest.mark.filterwarnings("ignore:'HTTP_422_UNPROCESSABLE_ENTITY' is deprecated")


@pytest.fixture(scope="module")
def client(app_server) -> Client:
    make_tiny_run(app_server.root, "tiny")
    return Client(app_server.url, verbose=False)


def test_predict_file_returns_the_report_and_the_csv(app_server, client):
    rows = [("a wonderful, moving film", "positive"), ("", "negative"), ("dull and far too long", "negative")] * 4
    src = write_csv(app_server.base / "to-label.csv", rows)
    report, path = client.predict(handle_file(str(src)), "tiny", "", "", "", api_name="/predict_file")
    assert (report["rows"], report["predicted"], report["skipped"]) == (12, 8, 4)
    assert report["backend"] == "pytorch" and "out" not in report  # no server paths in answers
    assert report["metrics"]["scored_rows"] == 8 and len(report["metrics"]["confusion_matrix"]) == 2
    with open(path, newline="", encoding="utf-8") as fh:
        out = list(csv.DictReader(fh))
    assert [r["text"] for r in out] == [r[0] for r in rows]
    assert {r["predicted_label"] for r in out if r["text"]} <= {"negative", "positive"}


def test_predict_file_errors_are_one_line_and_the_app_keeps_working(app_server, client):
    src = write_csv(app_server.base / "x.csv", [("hello", "positive")])
    with pytest.raises(AppError, match="No saved run named 'nope'"):
        client.predict(handle_file(str(src)), "nope", "", "", "", api_name="/predict_file")
    with pytest.raises(AppError, match="Column 'body' not found"):
        client.predict(handle_file(str(src)), "tiny", "", "body", "", api_name="/predict_file")
    with pytest.raises(AppError, match="no ONNX export"):
        client.predict(handle_file(str(src)), "tiny", "onnx-int8", "", "", api_name="/predict_file")
    report, _ = client.predict(handle_file(str(src)), "tiny", "pytorch", "text", "(none)", api_name="/predict_file")
    assert report["rows"] == 1 and report["metrics"] is None


def test_explain(client):
    r = client.predict("tiny", "An unbelievably moving story", "", api_name="/explain")
    assert [w for w, _ in r["words"]] == ["An", "unbelievably", "moving", "story"]
    assert r["target"] == r["label"] and len(r["tokens"]) == 8  # an un ##bel ##ie ##va ##bly moving story
    r = client.predict("tiny", "An unbelievably moving story", "positive", api_name="/explain")
    assert r["target"] == "positive"
    with pytest.raises(AppError, match="Type a text"):
        client.predict("tiny", " ", "", api_name="/explain")
