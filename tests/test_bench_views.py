"""The Compare tab's text and tables, from plain report dicts (no gradio)."""

from __future__ import annotations

from bertdemo.ui import bench_views

REPORT = {
    "device": "cpu (AMD EPYC, 2 cores)",
    "threads": {"torch": 2, "onnxruntime": 2},
    "settings": {"repeats": 10, "batch_size": 32},
    "measurement": {
        "method": "each back-end timed in its own block of calls",
        "ort_spinning": False,
        "why": "other processes kept 1.2 cores busy, so ORT did not spin",
        "load_average_1m": 3.5,
        "steady": {"samples_per_backend": 40},
        "first_call": {"idle_s": 1.0, "rounds": 2, "method": "one call per back-end after 1 s without any call"},
    },
    "floor": {"p50_ms": 0.5},
    "backends": {
        "pytorch": {"p50_ms": 10.0, "x_floor": 20.0, "speedup_p50": 1.0, "first_call_ms": 14.5},
        "onnx-int8": {"p50_ms": 4.0, "x_floor": 8.0, "speedup_p50": 2.5, "first_call_ms": 6.25},
    },
}


def test_measurement_text_says_how_and_how_far_from_the_floor():
    text = bench_views.measurement_text(REPORT)
    assert "cpu (AMD EPYC, 2 cores)" in text and "torch 2, onnxruntime 2" in text
    assert "own block" in text and "spinning off" in text and "1.2 cores busy" in text and "3.50" in text
    assert "0.500 ms" in text and "**onnx-int8**" in text and "8.0x above" in text
    assert "Only PyTorch" not in text


def test_first_call_after_idle_is_labelled_and_kept_apart():
    text = bench_views.measurement_text(REPORT)
    assert "p50/p95 are the steady state" in text and "40 timed calls per back-end" in text
    assert "**First call after 1 s idle**" in text and "pytorch 14.5 ms, onnx-int8 6.2 ms" in text
    frame = bench_views.backends_frame(REPORT)
    assert list(frame[bench_views.FIRST_CALL_COLUMN]) == [14.5, 6.25] and list(frame["p50 ms"]) == [10.0, 4.0]
    older = {**REPORT, "measurement": {}, "backends": {"pytorch": {"p50_ms": 10.0}}}  # a report without it
    assert "First call" not in bench_views.measurement_text(older)
    assert list(bench_views.backends_frame(older)[bench_views.FIRST_CALL_COLUMN]) == ["-"]


def test_measurement_text_of_a_pytorch_only_run():
    report = {**REPORT, "backends": {"pytorch": REPORT["backends"]["pytorch"]}, "measurement": {}}
    text = bench_views.measurement_text(report)
    assert "Only PyTorch is available" in text and "How:" not in text and "**pytorch**" in text


def test_backends_frame_has_the_floor_column():
    frame = bench_views.backends_frame(REPORT)
    assert list(frame["x floor (p50)"]) == [20.0, 8.0]
    assert list(frame["back-end"]) == ["pytorch", "onnx-int8"]


def test_measurement_text_warns_when_back_ends_ran_on_different_devices():
    report = {"backends": {"pytorch": {"device": "cuda", "p50_ms": 2.0}, "onnx-int8": {"device": "cpu", "p50_ms": 3.0}}}
    text = bench_views.measurement_text(report)
    assert "**Different devices:** pytorch on cuda, onnx-int8 on cpu" in text
    same = {"backends": {"pytorch": {"device": "cpu"}, "onnx": {"device": "cpu"}}}
    assert "Different devices" not in bench_views.measurement_text(same)


def test_accuracy_and_agreement_name_where_they_come_from():
    """Issue 29 item 11: 'agreement' beside 'val accuracy' read as a validation figure; it is measured on the
    typed texts."""
    report = {**REPORT, "texts": ["a", "b", "c"]}
    report["backends"] = {"onnx-int8": {**REPORT["backends"]["onnx-int8"], "accuracy": 0.983, "agreement": 1.0}}
    frame = bench_views.backends_frame(report)
    assert list(frame.columns[-2:]) == ["val acc (export check)", "agrees (your texts)"]
    assert list(frame.iloc[0, -2:]) == ["98.3%", "100.0%"]
    text = bench_views.measurement_text(report)
    assert "measured when it was exported" in text and "measured here, on your 3 texts" in text
