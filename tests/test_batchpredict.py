"""Batch prediction of a CSV: streamed in chunks, order kept, bad rows counted, scores when labels are there."""

from __future__ import annotations

import csv
import gzip
import json

import numpy as np
import pytest

from bertdemo import config
from bertdemo.data.csvread import count_rows, open_table
from bertdemo.errors import DataError, ExportError, RunNotFound, UnknownBackend
from bertdemo.inference import batchpredict, predictors
from bertdemo.inference.batchpredict import fastest_backend, predict_file
from bertdemo.runs import store
from tests.conftest import tiny_rows
from tests.helpers import make_tiny_run


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    root = tmp_path_factory.mktemp("models")
    make_tiny_run(root, "tiny")
    return root


def write_rows(path, header, rows, encoding="utf-8", delimiter=","):
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "wt", newline="", encoding=encoding) as fh:
        writer = csv.writer(fh, delimiter=delimiter)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def read_rows(path):
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def mixed_rows(n=23):
    """Rows of very different lengths (so length-sorting reorders them), one without text, one unknown label."""
    rows = []
    for i, (text, label) in enumerate(tiny_rows(n)):
        rows.append([str(i), (text + " and more words") * (1 + (i * 7) % 5), label])
    rows[5][1] = "   "  # no text: empty prediction, counted
    rows[9][2] = "maybe"  # a label the run does not know: not scored
    return rows


def test_output_keeps_order_columns_and_matches_the_predictor(root, tmp_path):
    rows = mixed_rows()
    src = write_rows(tmp_path / "in.csv", ["id", "review", "sentiment"], rows)
    progress = []
    report = predict_file("tiny", src, tmp_path / "out.csv", root=root, chunk_rows=4, progress=progress.append)
    out = read_rows(tmp_path / "out.csv")
    labels = ["negative", "positive"]
    assert list(out[0]) == ["id", "review", "sentiment", "predicted_label", "prob_negative", "prob_positive"]
    assert [r["id"] for r in out] == [r[0] for r in rows]  # input order restored after length-sorting
    assert report["backend"] == "pytorch" and report["text_column"] == "review"
    assert report["label_column"] == "sentiment"
    assert (report["rows"], report["predicted"], report["skipped"]) == (len(rows), len(rows) - 1, 1)
    assert out[5]["predicted_label"] == "" and out[5]["prob_positive"] == ""
    # The same texts one at a time through the predictor: the same answers.
    kept = [r for r in out if r["review"].strip()]
    pred = predictors.load_predictor("tiny", "pytorch", root).predict([r["review"] for r in kept], batch_size=1)
    probs = np.array([[float(r[f"prob_{lab}"]) for lab in labels] for r in kept])
    assert [r["predicted_label"] for r in kept] == pred.labels
    np.testing.assert_allclose(probs, pred.probabilities, atol=2e-6)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-5)
    # Scores over the rows whose label the run knows (not the empty text, not "maybe").
    scored = [r for r in kept if r["sentiment"] in labels]
    m = report["metrics"]
    assert m["scored_rows"] == len(scored) == len(rows) - 2
    assert m["accuracy"] == pytest.approx(np.mean([r["sentiment"] == r["predicted_label"] for r in scored]))
    assert np.sum(m["confusion_matrix"]) == len(scored) and m["labels"] == labels
    assert any("maybe" not in n and "not scored" in n for n in report["notes"])
    # Progress after each chunk of 4, the last one complete.
    assert [p["done"] for p in progress] == [*range(4, len(rows), 4), len(rows)]
    assert all(p["total"] == len(rows) for p in progress)
    assert report["preview"][0]["id"] == "0" and len(report["preview"]) == config.PREVIEW_ROWS


def test_memory_is_bounded_by_the_chunk(root, tmp_path, monkeypatch):
    """The predictor never sees more than one chunk of texts at a time."""
    src = write_rows(tmp_path / "in.csv", ["text"], [[f"text number {i}"] for i in range(50)])
    predictor = predictors.load_predictor("tiny", "pytorch", root)
    sizes = []
    real_predict = predictor.predict
    monkeypatch.setattr(predictor, "predict", lambda texts, **kw: sizes.append(len(texts)) or real_predict(texts))
    report = predict_file("tiny", src, tmp_path / "out.csv", root=root, chunk_rows=8)
    assert sizes == [8] * 6 + [2] and report["metrics"] is None and report["label_column"] is None


def test_gzip_semicolons_and_cp1252(root, tmp_path):
    rows = [[f"Caf\u00e9 n\u00b0{i}; tr\u00e8s bon", "positive"] for i in range(5)]
    gz = write_rows(tmp_path / "in.csv.gz", ["text", "label"], rows)
    report = predict_file("tiny", gz, tmp_path / "a.csv", root=root)
    assert report["rows"] == 5 and read_rows(tmp_path / "a.csv")[0]["text"] == rows[0][0]
    latin = write_rows(tmp_path / "latin.csv", ["label", "text"], [r[::-1] for r in rows], "cp1252", ";")
    report = predict_file("tiny", latin, tmp_path / "b.csv", root=root)
    assert report["text_column"] == "text" and read_rows(tmp_path / "b.csv")[0]["text"] == rows[0][0]


def test_columns_chosen_by_the_user_and_name_clashes(root, tmp_path):
    src = write_rows(
        tmp_path / "in.csv", ["a", "b", "predicted_label"], [["short", "a much longer text here", "x"]] * 3
    )
    report = predict_file("tiny", src, tmp_path / "out.csv", root=root, text_column="a", label_column="(none)")
    assert report["text_column"] == "a" and report["label_column"] is None
    assert report["columns"][3] == "predicted_label_2"
    # No known name: the column with the longest values, said in a note.
    report = predict_file("tiny", src, tmp_path / "out2.csv", root=root)
    assert report["text_column"] == "b" and any("longest" in n for n in report["notes"])


@pytest.mark.parametrize(
    ("kwargs", "content", "fragment"),
    [
        ({}, "text\n", "no data rows"),
        ({"text_column": "nope"}, "text\nhello\n", "Column 'nope' not found"),
        ({"backend": "tensorflow"}, "text\nhello\n", "Unknown back-end"),
        ({"backend": "onnx"}, "text\nhello\n", "no ONNX export"),
        ({}, "PK\x03\x04junk", "ZIP/Excel"),
    ],
)
def test_bad_input_is_one_line_and_leaves_no_file(root, tmp_path, kwargs, content, fragment):
    src = tmp_path / "in.csv"
    src.write_text(content, encoding="utf-8")
    with pytest.raises((DataError, UnknownBackend, ExportError)) as info:
        predict_file("tiny", src, tmp_path / "out.csv", root=root, **kwargs)
    assert fragment.lower() in str(info.value).lower() and "\n" not in str(info.value)
    assert not list(tmp_path.glob("*out.csv*"))


def test_row_limit_is_checked_before_the_model_loads(root, tmp_path, monkeypatch):
    monkeypatch.setattr(config, "PREDICT_MAX_ROWS", 3)
    src = write_rows(tmp_path / "in.csv", ["text"], [["a"], ["b"], ["c"], ["d"]])
    with pytest.raises(DataError, match="over the 3-row limit"):
        predict_file("tiny", src, tmp_path / "out.csv", root=root)
    with pytest.raises(RunNotFound):
        predict_file("nope", src, tmp_path / "out.csv", root=root)


def test_stream_reader_counts_blank_lines_out_and_pads_short_rows(tmp_path):
    src = tmp_path / "in.csv"
    src.write_text('text,label\n"multi\nline",pos\n\nshort\n"x",neg,\n', encoding="utf-8")
    assert count_rows(src) == 3
    with open_table(src) as (head, rows):
        assert head.columns == ["text", "label"] and list(rows) == [["multi\nline", "pos"], ["short", ""], ["x", "neg"]]


def test_fastest_backend_needs_a_passed_check_and_the_file(root):
    assert fastest_backend("tiny", root) == "pytorch"
    run = store.run_dir("tiny", root)
    info = store.load_run("tiny", root)
    variants = {"onnx-int8": {"passed": False}, "onnx": {"passed": True}}
    store.update_run("tiny", {"exports": {"variants": variants}}, root)
    try:
        assert fastest_backend("tiny", root) == "pytorch"  # onnx passed, but its file is not there
        (run / config.ONNX_SUBDIR).mkdir()
        (run / config.ONNX_SUBDIR / config.ONNX_FILES["onnx"]).write_bytes(b"")
        (run / config.ONNX_SUBDIR / config.ONNX_FILES["onnx-int8"]).write_bytes(b"")
        assert fastest_backend("tiny", root) == "onnx"  # int8 is there but failed its check
    finally:
        (run / store.RUN_JSON).write_text(json.dumps(info), encoding="utf-8")
        for f in (run / config.ONNX_SUBDIR).glob("*"):
            f.unlink()
        (run / config.ONNX_SUBDIR).rmdir()
    assert batchpredict.fresh_name("prob_a", {"prob_a", "prob_a_2"}) == "prob_a_3"


def test_rows_the_run_trained_on_are_counted_and_scored_apart(tmp_path):
    """Predicting the training file used to report one flattering accuracy; the run's audit.json knows which texts
    it trained on, so those rows are counted and scored apart from the others."""
    root = tmp_path / "models"
    root.mkdir()
    run = make_tiny_run(root, "knows")
    trained = [text for text, _ in tiny_rows(6)]  # 12 texts the run trained on
    audit_rows = [{"row": i + 1, "text": t, "split": "train"} for i, t in enumerate(trained)]
    audit_rows.append({"row": 13, "text": "a held-out review", "split": "validation"})
    (run / store.AUDIT_JSON).write_text(json.dumps({"rows": audit_rows}), encoding="utf-8")
    rows = [[f"  {t.replace(' ', '  ')} ", lab] for t, lab in tiny_rows(6)]  # as typed again: extra spaces
    rows += [[t, lab] for t, lab in tiny_rows(10)[12:]] + [["a held-out review", "positive"], ["", "negative"]]
    src = write_rows(tmp_path / "train-again.csv", ["text", "label"], rows)
    report = predict_file("knows", src, tmp_path / "out.csv", root=root)
    assert report["predicted"] == 21 and report["seen_in_training"] == 12
    assert report["metrics_seen"]["scored_rows"] == 12 and report["metrics"]["scored_rows"] == 9
    assert "The run trained on 12 of 21 text(s) of this file." in " ".join(report["notes"])
    everything = write_rows(tmp_path / "all-seen.csv", ["text", "label"], rows[:12])
    report = predict_file("knows", everything, tmp_path / "out2.csv", root=root)
    assert report["metrics"] is None and report["metrics_seen"]["scored_rows"] == 12
    assert "The run trained on all 12 text(s) of this file." in " ".join(report["notes"])
    (run / store.AUDIT_JSON).unlink()  # a run saved before audits: it cannot tell
    report = predict_file("knows", src, tmp_path / "out4.csv", root=root)
    assert report["seen_in_training"] is None and report["metrics"]["scored_rows"] == 21


def test_predict_summary_shows_the_trained_on_rows_apart():
    from bertdemo.ui.predict_views import summary_markdown

    scores = {"accuracy": 0.7, "f1_macro": 0.69, "label_column": "label"}
    report = {
        **{"predicted": 30, "rows": 30, "backend": "pytorch", "seconds": 1.0, "texts_per_second": 30.0},
        **{"load_seconds": 0.5, "text_column": "text", "seen_in_training": 20},
        "metrics": {**scores, "scored_rows": 10},
        "metrics_seen": {**scores, "accuracy": 0.985, "scored_rows": 20},
    }
    text = summary_markdown(report)
    assert "**Accuracy 70.0%**, macro-F1 69.0% on 10 rows not seen in training" in text
    assert "On the 20 rows the run **trained on**: accuracy 98.5%" in text
