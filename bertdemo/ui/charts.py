"""Pure chart builders: metric records in, plotly Figures out (no gradio, no torch)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import plotly.graph_objects as go
from plotly.subplots import make_subplots

# One colour per run (plotly's default qualitative palette), one dash style per metric.
PALETTE = ("#636efa", "#ef553b", "#00cc96", "#ab63fa", "#ffa15a", "#19d3f3", "#ff6692", "#b6e880")
BACKEND_COLORS = {"pytorch": "#ee4c2c", "onnx": "#636efa", "onnx-optimized": "#00cc96", "onnx-int8": "#ab63fa"}
# The title sits below the toolbar plotly draws over the top edge (it covered the title on a 390 px phone).
_LAYOUT = {
    "template": "plotly_white",
    "margin": {"l": 50, "r": 20, "t": 96, "b": 40},
    "height": 390,
    "title_y": 1,
    "title_yanchor": "top",
    "title_pad_t": 36,
}

History = Sequence[Mapping[str, Any]]
_CURVES = (  # (subplot column, history key, legend label, dash, line width, marker)
    (1, "train_loss", "train loss", "solid", 2, "circle"),
    (1, "val_loss", "val loss", "dash", 2, "circle"),
    # On balanced data accuracy and macro-F1 are often equal: accuracy is a wide pale band with big markers,
    # macro-F1 a thin dotted line with open diamonds on top of it, so both stay visible.
    (2, "val_accuracy", "val accuracy", "solid", 6, "circle"),
    (2, "val_f1_macro", "val macro-F1", "dot", 2, "diamond-open"),
)


def _as_runs(histories: History | Mapping[str, History]) -> dict[str, History]:
    """A single history is one unnamed run; a mapping is {run name: history}."""
    if isinstance(histories, Mapping):
        return dict(histories)
    return {"": histories}


def _series(history: History, key: str) -> tuple[list[float], list[float]]:
    xs, ys = [], []
    for rec in history:
        value = rec.get(key)
        if value is not None:
            xs.append(rec.get("epoch", len(xs) + 1))
            ys.append(value)
    return xs, ys


def _empty(fig: go.Figure, text: str) -> go.Figure:
    fig.add_annotation(
        text=text, showarrow=False, xref="paper", yref="paper", x=0.5, y=0.5, font={"size": 14, "color": "#888"}
    )
    return fig


def training_curves(
    histories: History | Mapping[str, History],
    title: str = "Training curves",
    loss_trace: Sequence[Mapping[str, float]] | None = None,
) -> go.Figure:
    """Per-epoch loss (train + val) beside val accuracy / macro-F1; several runs are overlaid.

    Args:
        histories: one run's history records, or {run name: records} to compare runs.
        loss_trace: a running job's training loss every few steps ({epoch, loss}), drawn live under the epochs.
    """
    runs = _as_runs(histories)
    fig = make_subplots(rows=1, cols=2, subplot_titles=("Loss", "Validation scores"), horizontal_spacing=0.1)
    several = len(runs) > 1
    for i, (name, history) in enumerate(runs.items()):
        color = PALETTE[i % len(PALETTE)]
        prefix = f"{name} " if several else ""
        for k, (col, key, label, dash, width, marker) in enumerate(_CURVES):
            xs, ys = _series(history, key)
            if not xs:
                continue
            # One run: a colour per metric, so the legend alone explains the lines.
            line_color = color if several else PALETTE[k]
            fig.add_trace(
                go.Scatter(
                    x=xs,
                    y=ys,
                    mode="lines+markers",
                    name=f"{prefix}{label}",
                    legendgroup=name or label,
                    line={"color": line_color, "dash": dash, "width": width},
                    marker={"symbol": marker, "size": 11 if width > 2 else 8},
                    opacity=0.45 if width > 2 else 1.0,
                    hovertemplate=f"{prefix}{label}<br>epoch %{{x}}: %{{y:.4f}}<extra></extra>",
                ),
                row=1,
                col=col,
            )
    if loss_trace:
        fig.add_trace(
            go.Scatter(
                x=[p["epoch"] for p in loss_trace],
                y=[p["loss"] for p in loss_trace],
                mode="lines",
                name="train loss (every few steps)",
                line={"color": "#9aa5b1", "width": 1.5},
                hovertemplate="train loss<br>epoch %{x:.2f}: %{y:.4f}<extra></extra>",
            ),
            row=1,
            col=1,
        )
        if not any(len(h) for h in runs.values()):  # no epoch yet: the scores panel still gets its axes
            fig.add_trace(go.Scatter(x=[], y=[], showlegend=False, hoverinfo="skip"), row=1, col=2)
    fig.update_layout(title=title, legend={"orientation": "h", "y": -0.2}, **_LAYOUT)
    last = max(_max_epoch(runs), max((p["epoch"] for p in loss_trace or []), default=0))
    fig.update_xaxes(title_text="epoch", dtick=1 if last <= 20 else None)
    fig.update_yaxes(range=[0, 1.02], row=1, col=2)
    if not fig.data:
        # Sensible empty axes: epochs from 1, loss from 0, scores 0..1, and a line saying what will come.
        fig.update_xaxes(range=[0.5, 3.5])
        fig.update_yaxes(range=[0, 1], row=1, col=1)
        for col in (1, 2):  # plotly.js draws no axes for a subplot without a trace: an empty one each
            fig.add_trace(go.Scatter(x=[], y=[], showlegend=False, hoverinfo="skip"), row=1, col=col)
        _empty(fig, "Curves appear after the first epoch")
    return fig


def _max_epoch(runs: Mapping[str, History]) -> float:
    return max((rec.get("epoch") or 0 for h in runs.values() for rec in h), default=0)


def confusion_matrix_figure(
    matrix: Sequence[Sequence[int]], labels: Sequence[str], title: str = "Confusion matrix (validation)"
) -> go.Figure:
    """Heatmap of true (rows) vs predicted (columns) counts, with the counts written in the cells."""
    labels = [str(lab) for lab in labels]
    z = [list(row) for row in matrix]
    fig = go.Figure(
        go.Heatmap(
            z=z,
            x=labels,
            y=labels,
            colorscale="Blues",
            showscale=False,
            text=z,
            texttemplate="%{text}",
            hovertemplate="true %{y}<br>predicted %{x}: %{z}<extra></extra>",
        )
    )
    fig.update_layout(title=title, xaxis_title="predicted", yaxis_title="true", **_LAYOUT)
    fig.update_yaxes(autorange="reversed")  # first label on top, like a printed matrix
    return fig


def latency_figure(backends: Mapping[str, Mapping[str, Any]], title: str = "Latency and throughput") -> go.Figure:
    """Bars of p50/p95 latency (ms, left) and throughput (texts/s, right), one colour per back-end.

    One trace per back-end (not per statistic), so the legend shows each back-end's own colour.
    """
    names = list(backends)
    fig = make_subplots(
        rows=1,
        cols=2,
        # Short: each title gets half the width, 150 px on a phone (the longer ones ran into each other there).
        subplot_titles=("Latency per text", "Throughput"),
    )
    for name in names:
        b, color = backends[name], BACKEND_COLORS.get(name, "#888")
        fig.add_trace(
            go.Bar(
                x=["p50", "p95"],
                y=[b.get("p50_ms"), b.get("p95_ms")],
                name=name,
                legendgroup=name,
                marker_color=color,
                texttemplate="%{y:.1f}",
                hovertemplate=f"{name} %{{x}}: %{{y:.2f}} ms<extra></extra>",
            ),
            row=1,
            col=1,
        )
        fig.add_trace(
            go.Bar(
                x=[name],
                y=[b.get("throughput")],
                name=name,
                legendgroup=name,
                marker_color=color,
                showlegend=False,
                texttemplate="%{y:.0f}",
                hovertemplate=f"{name}: %{{y:.1f}} texts/s<extra></extra>",
            ),
            row=1,
            col=2,
        )
    fig.update_layout(title=title, barmode="group", legend={"orientation": "h", "y": -0.2}, **_LAYOUT)
    fig.update_yaxes(title_text="ms (lower is better)", row=1, col=1)
    fig.update_yaxes(title_text="texts/s (higher is better)", row=1, col=2)
    if not names:
        fig.update_yaxes(range=[0, 1])
        _empty(fig, "No back-ends measured yet: press Compare")
    return fig


def class_balance_figure(counts: Mapping[str, int], title: str = "Rows per class") -> go.Figure:
    """Horizontal bars of rows per label, largest first."""
    items = sorted(counts.items(), key=lambda kv: (-kv[1], str(kv[0])))
    labels = [str(k) for k, _ in items][::-1]  # plotly draws the first bar at the bottom
    values = [v for _, v in items][::-1]
    fig = go.Figure(
        go.Bar(
            x=values,
            y=labels,
            orientation="h",
            marker_color=PALETTE[0],
            text=values,
            textposition="auto",
            hovertemplate="%{y}: %{x} rows<extra></extra>",
        )
    )
    layout = {**_LAYOUT, "height": max(216, min(456, 96 + 32 * len(items)))}
    fig.update_layout(title=title, xaxis_title="rows", **layout)
    if not items:
        _empty(fig, "No labelled rows")
    return fig
