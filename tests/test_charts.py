"""bertdemo.ui.charts: figures built from metric records have the traces the UI relies on."""

from __future__ import annotations

import plotly.graph_objects as go
import pytest

from bertdemo.ui import charts

HISTORY = [
    {
        "epoch": 1.0,
        "train_loss": 0.9,
        "train_accuracy": 0.55,
        "val_loss": 0.8,
        "val_accuracy": 0.6,
        "val_f1_macro": 0.58,
    },
    {
        "epoch": 2.0,
        "train_loss": 0.5,
        "train_accuracy": 0.8,
        "val_loss": 0.6,
        "val_accuracy": 0.75,
        "val_f1_macro": 0.74,
    },
    {
        "epoch": 3.0,
        "train_loss": 0.3,
        "train_accuracy": 0.9,
        "val_loss": 0.55,
        "val_accuracy": 0.8,
        "val_f1_macro": 0.79,
    },
]


def names(fig: go.Figure) -> list[str]:
    return [trace.name for trace in fig.data]


def test_training_curves_one_run():
    fig = charts.training_curves(HISTORY)
    assert names(fig) == ["train loss", "val loss", "val accuracy", "val macro-F1"]
    loss = fig.data[0]
    assert list(loss.x) == [1.0, 2.0, 3.0] and list(loss.y) == [0.9, 0.5, 0.3]
    # loss on the left subplot, scores on the right one
    assert [t.xaxis for t in fig.data] == ["x", "x", "x2", "x2"]
    assert len({t.line.color for t in fig.data}) == 4  # one run: a colour per metric


def test_training_curves_overlay_runs():
    short = HISTORY[:1]
    fig = charts.training_curves({"run-a": HISTORY, "run-b": short})
    assert len(fig.data) == 8
    assert {t.name.split(" ")[0] for t in fig.data} == {"run-a", "run-b"}
    colors = {t.name.split(" ")[0]: t.line.color for t in fig.data}
    assert colors["run-a"] != colors["run-b"]  # several runs: a colour per run, a dash per metric
    assert {t.line.dash for t in fig.data if t.name.startswith("run-a")} == {"solid", "dash", "dot"}


def test_training_curves_skip_missing_values_and_empty_history():
    partial = [{"epoch": 1, "train_loss": None, "val_loss": 0.7, "val_accuracy": 0.5, "val_f1_macro": None}]
    assert names(charts.training_curves(partial)) == ["val loss", "val accuracy"]
    empty = charts.training_curves([])
    assert not any(len(t.x) for t in empty.data)  # only the empty traces that make plotly draw both axes
    assert "first epoch" in empty.layout.annotations[-1].text
    assert tuple(empty.layout.xaxis.range) == (0.5, 3.5) and tuple(empty.layout.yaxis.range) == (0, 1)


def test_accuracy_stays_visible_under_an_equal_macro_f1():
    same = [{**rec, "val_f1_macro": rec["val_accuracy"]} for rec in HISTORY]
    acc, f1 = charts.training_curves(same).data[2:]
    assert list(acc.y) == list(f1.y)  # the case of the issue: the two lines coincide
    assert acc.line.width > f1.line.width and acc.marker.size > f1.marker.size
    assert acc.marker.symbol != f1.marker.symbol and acc.line.dash != f1.line.dash


def test_confusion_matrix_figure():
    fig = charts.confusion_matrix_figure([[5, 1], [2, 7]], ["negative", "positive"])
    (heat,) = fig.data
    assert heat.type == "heatmap"
    assert [list(r) for r in heat.z] == [[5, 1], [2, 7]]
    assert list(heat.x) == list(heat.y) == ["negative", "positive"]
    assert fig.layout.xaxis.title.text == "predicted" and fig.layout.yaxis.title.text == "true"


def test_latency_figure():
    backends = {
        "pytorch": {"p50_ms": 10.0, "p95_ms": 14.0, "throughput": 90.0},
        "onnx": {"p50_ms": 6.0, "p95_ms": 8.0, "throughput": 150.0},
        "onnx-int8": {"p50_ms": 4.0, "p95_ms": 5.5, "throughput": 240.0},
    }
    fig = charts.latency_figure(backends)
    latency = [t for t in fig.data if t.xaxis == "x"]
    throughput = [t for t in fig.data if t.xaxis == "x2"]
    # One trace per back-end in the legend, each with its own single colour (the legend shows it).
    assert [t.name for t in latency] == ["pytorch", "onnx", "onnx-int8"] and all(
        t.showlegend is not False for t in latency
    )
    assert len({t.marker.color for t in latency}) == 3 and all(isinstance(t.marker.color, str) for t in latency)
    assert list(latency[1].x) == ["p50", "p95"] and list(latency[1].y) == [6.0, 8.0]
    assert [list(t.y) for t in throughput] == [[90.0], [150.0], [240.0]]
    assert [t.marker.color for t in throughput] == [t.marker.color for t in latency]
    empty = charts.latency_figure({})
    assert "No back-ends measured" in empty.layout.annotations[-1].text


@pytest.mark.parametrize("counts", [{"neutral": 3, "positive": 10, "negative": 7}, {}])
def test_class_balance_figure(counts):
    fig = charts.class_balance_figure(counts)
    (bars,) = fig.data
    assert bars.orientation == "h"
    # largest class on top: plotly draws the first bar at the bottom
    assert list(bars.y) == sorted(counts, key=counts.get)
    assert list(bars.x) == sorted(counts.values())
