"""Export and compare reports -> the tables of the Export and Compare tabs. No gradio here."""

from __future__ import annotations

from typing import Any

import pandas as pd

from bertdemo import config
from bertdemo.ui.html_tables import html_table
from bertdemo.ui.views import pct

EXPORT_COLUMNS = [
    "variant",
    "size MB",
    "max |diff|",
    "agreement",
    "accuracy",
    "vs PyTorch",
    "macro-F1",
    "check",
    "passed",
]


def _check(variant: str, criterion: str | None) -> str:
    """What 'passed' required of a variant, in words."""
    if criterion and criterion.startswith("agreement"):
        return f"same label as PyTorch on >= {pct(config.LOW_PRECISION_MIN_AGREEMENT)} of rows"
    atol = config.ONNX_ATOL if variant == "onnx" else config.ONNX_OPTIMIZED_ATOL
    return f"every logit within {atol:g} of PyTorch"


def _points(value: float | None, reference: float | None) -> str:
    if value is None or reference is None:
        return ""
    return f"{100 * (float(value) - float(reference)):+.1f} pts"


def export_frame(report: dict[str, Any] | None) -> pd.DataFrame:
    """One row per exported variant (PyTorch first, for reference)."""
    report = report or {}
    rows = []
    torch_row = report.get("pytorch") or {}
    if torch_row:
        rows.append(
            {
                "variant": "pytorch (reference)",
                "size MB": torch_row.get("size_mb"),
                "max |diff|": "",
                "agreement": "",
                "accuracy": pct(torch_row.get("accuracy")) if torch_row.get("accuracy") is not None else "",
                "vs PyTorch": "",
                "macro-F1": pct(torch_row.get("f1_macro")) if torch_row.get("f1_macro") is not None else "",
                "check": "",
                "passed": "",
            }
        )
    for variant, v in (report.get("variants") or {}).items():
        diff = v.get("max_abs_diff")
        rows.append(
            {
                "variant": variant,
                "size MB": v.get("size_mb"),
                "max |diff|": "" if diff is None else f"{diff:.2e}",
                "agreement": "" if v.get("agreement") is None else pct(v.get("agreement")),
                "accuracy": "" if v.get("accuracy") is None else pct(v.get("accuracy")),
                "vs PyTorch": _points(v.get("accuracy"), torch_row.get("accuracy")),
                "macro-F1": "" if v.get("f1_macro") is None else pct(v.get("f1_macro")),
                "check": _check(variant, v.get("criterion")),
                "passed": "yes" if v.get("passed") else "NO",
            }
        )
    frame = pd.DataFrame(rows, columns=EXPORT_COLUMNS)
    frame["size MB"] = frame["size MB"].map(lambda x: "" if x is None or pd.isna(x) else f"{float(x):.1f}")
    return frame


def export_note(report: dict[str, Any] | None) -> str:
    """What 'passed' means, for the variants of this report (Markdown; '' before any export)."""
    variants = (report or {}).get("variants") or {}
    if not variants:
        return ""
    texts = report.get("checked_texts")
    source = "validation rows" if report.get("check_source") == "validation.csv" else "built-in sentences"
    lines = [f"**What “passed” means.** Each variant ran on the same {texts or ''} {source} as PyTorch."]
    if "onnx" in variants:
        lines.append(f"- `onnx` (fp32): every logit within {config.ONNX_ATOL:g} of PyTorch's.")
    if "onnx-optimized" in variants:
        criterion = variants["onnx-optimized"].get("criterion") or ""
        lines.append(
            "- `onnx-optimized`: "
            + (
                f"the same label as PyTorch on at least {pct(config.LOW_PRECISION_MIN_AGREEMENT)} of them (fp16)."
                if criterion.startswith("agreement")
                else f"every logit within {config.ONNX_OPTIMIZED_ATOL:g} (fused kernels add floats in another order)."
            )
        )
    if "onnx-int8" in variants:
        lines.append(
            f"- `onnx-int8`: int8 weights cannot match the logits, so it passes when it gives the same label as "
            f"PyTorch on at least {pct(config.LOW_PRECISION_MIN_AGREEMENT)} of them. Its accuracy change against "
            "PyTorch is in the *vs PyTorch* column (not part of the check): judge it for your use."
        )
    return "\n".join(lines)


def answers_html(report: dict[str, Any]) -> str:
    """Every back-end's label and confidence for each text, then whether they agree, then the text (cut, whole on
    a click): a long review no longer pushes the labels off screen. Disagreeing rows are highlighted."""
    backends = list(report.get("backends") or {})
    rows, flagged = [], []
    for r in report.get("rows") or []:
        answers = [r.get(b) or {} for b in backends]
        labels = [f"{a.get('label')} ({pct(a.get('confidence', 0))})" for a in answers]
        rows.append([*labels, "yes" if r.get("agree") else "NO", r["text"]])
        flagged.append(not r.get("agree"))
    title = "Answers side by side (label and confidence)"
    return html_table([*backends, "agree", "text"], rows, ("text",), flagged, "No text to compare.", title)


FIRST_CALL_COLUMN = "first call ms"  # after 1 s idle; short, so a phone keeps the header on 2 lines
# Two figures from two places, named so: accuracy from the export check on the run's validation rows, agreement
# measured here on the typed texts (onnx-int8 read 100% "agreement" beside a 98.3% it never scored there).
ACCURACY_COLUMN = "val acc (export check)"
AGREEMENT_COLUMN = "agrees (your texts)"

BACKEND_COLUMNS = [
    "back-end",
    "p50 ms",
    "p95 ms",
    FIRST_CALL_COLUMN,
    "texts/s",
    "speed-up (p50)",
    "x floor (p50)",
    "size MB",
    ACCURACY_COLUMN,
    AGREEMENT_COLUMN,
]


def backends_frame(report: dict[str, Any]) -> pd.DataFrame:
    """Latency, throughput, size and accuracy per back-end."""
    rows = []
    for name, b in (report.get("backends") or {}).items():
        rows.append(
            {
                "back-end": name,
                "p50 ms": b.get("p50_ms"),
                "p95 ms": b.get("p95_ms"),
                FIRST_CALL_COLUMN: b.get("first_call_ms"),
                "texts/s": b.get("throughput"),
                "speed-up (p50)": b.get("speedup_p50"),
                "x floor (p50)": b.get("x_floor"),
                "size MB": b.get("size_mb"),
                ACCURACY_COLUMN: None if b.get("accuracy") is None else pct(b["accuracy"]),
                AGREEMENT_COLUMN: None if b.get("agreement") is None else pct(b["agreement"]),
            }
        )
    return pd.DataFrame(rows, columns=BACKEND_COLUMNS).astype(object).where(lambda f: f.notna(), "-")


def measurement_text(report: dict[str, Any]) -> str:
    """Markdown under the Compare button: where and how the timings were taken, and the distance to the floor."""
    threads = report.get("threads") or {}
    threads_text = ", ".join(f"{k} {v}" for k, v in threads.items()) if isinstance(threads, dict) else threads
    settings = report.get("settings") or {}
    m = report.get("measurement") or {}
    steady = m.get("steady") or {}
    samples = steady.get("samples_per_backend")
    lines = [f"**Warning:** {w}" for w in report.get("warnings") or []]
    lines += [
        f"Measured on **{report.get('device', '?')}** (threads: {threads_text or '?'}). p50/p95 are the steady "
        f"state: per text at batch 1, tokenization included, "
        + (f"{samples} timed calls per back-end" if samples else f"{settings.get('repeats', '?')} timed rounds")
        + f" after warm-up; throughput at batch {settings.get('batch_size', '?')}."
    ]
    if m:
        spin = "on" if m.get("ort_spinning") else "off"
        load = m.get("load_average_1m")
        lines.append(
            f"How: {m.get('method', '?')}. ONNX Runtime spinning {spin}: {m.get('why', '?')}"
            + (f"; 1-minute load average {load:.2f}." if load is not None else ".")
        )
    first = m.get("first_call") or {}
    firsts = {b: v["first_call_ms"] for b, v in (report.get("backends") or {}).items() if v.get("first_call_ms")}
    if first and firsts:
        figures = ", ".join(f"{b} {ms:.1f} ms" for b, ms in firsts.items())
        lines.append(
            f"**First call after {first.get('idle_s', '?'):g} s idle** (as a visitor's request after a pause "
            f"meets it; the runtime's threads wake up first): {figures}. How: {first.get('method', '?')}."
        )
    floor = (report.get("floor") or {}).get("p50_ms")
    backends = report.get("backends") or {}
    timed = {b: v for b, v in backends.items() if v.get("x_floor")}
    if floor and timed:
        best = min(timed, key=lambda b: timed[b]["p50_ms"])
        lines.append(
            f"fp32 FLOPs floor at batch 1: {floor:.3f} ms; the fastest back-end, **{best}**, "
            f"is {timed[best]['x_floor']:.1f}x above it."
        )
    n = len(report.get("texts") or [])
    on = f"your {n} text{'s' if n != 1 else ''}" if n else "your texts"
    lines.append(
        f"**Where the figures come from:** *{ACCURACY_COLUMN}* is each back-end's accuracy on the run's validation "
        f"rows, measured when it was exported (the **Export** tab); *{AGREEMENT_COLUMN}* is measured here, on "
        f"{on}: the share where it gave PyTorch's label."
    )
    if len(backends) < 2:
        lines.append("**Only PyTorch is available:** export this run on the **Export** tab to compare.")
    devices = {b: v.get("device") for b, v in backends.items() if v.get("device")}
    if len(set(devices.values())) > 1:
        where = ", ".join(f"{b} on {d}" for b, d in devices.items())
        lines.append(f"**Different devices:** {where}. Their speeds compare hardware as well as runtimes.")
    return "\n\n".join(lines)
