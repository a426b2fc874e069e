"""An "Explain" button under a text box: the words that pushed the prediction, as highlighted text.

Placed on the Train tab's Try-it box and on the Compare tab (one explanation per line there).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import gradio as gr

from bertdemo import config, service
from bertdemo.ui.common import UI_EVENT, ui_errors

_HOW = (
    "Red words pushed the prediction towards the class named above the text, purple ones away from it "
    "(Captum layer integrated gradients over the embeddings; scores scaled so the strongest word is ±1)."
)


def explanation_segments(reports: list[dict[str, Any]]) -> list[tuple[str, float | None]]:
    """HighlightedText value for one or more explanations: each line headed by its label, lines apart."""
    value: list[tuple[str, float | None]] = []
    for i, r in enumerate(reports):
        if i:
            value.append(("\n\n", None))
        p = r["probabilities"][r["label"]]
        value.append((f"[{r['label']} {p:.0%}]  ", None))
        value += [(str(t), s) for t, s in r["segments"]]
    return value


def explanation_caption(reports: list[dict[str, Any]], typed: int | None = None) -> str:
    """What the colours mean, how long it took, and how many of the `typed` lines were left out."""
    if not reports:
        return ""
    seconds = sum(r.get("seconds", 0.0) for r in reports)
    delta = max(r.get("delta", 0.0) for r in reports)
    left = ""
    if typed and typed > len(reports):
        out = typed - len(reports)
        left = (
            f" **Explained the first {len(reports)} of your {typed} lines** (at most {config.EXPLAIN_MAX_LINES} "
            f"at a time, each takes a few seconds): {out} line{'s' if out != 1 else ''} left out."
        )
    return f"{_HOW} {len(reports)} text(s) in {seconds:.2f} s; completeness error {delta:.2g}.{left}"


def create_explain_box(
    run: gr.Dropdown, text: gr.Textbox, owner: gr.BrowserState, root: Path | None = None, per_line: bool = False
):
    """An Explain button and a HighlightedText for the run and text components given; returns the components."""
    c: dict[str, Any] = {}
    c["explain_btn"] = gr.Button("Explain: which words decided?", size="md", elem_classes="bd-explain")
    c["explanation"] = gr.HighlightedText(
        label="Explanation (red: towards the predicted class, purple: against)",
        show_legend=True,
        combine_adjacent=False,
        visible=False,
        elem_id=f"bd-explanation{'-lines' if per_line else ''}",
    )
    c["explanation_caption"] = gr.Markdown()

    @ui_errors
    def explain(owner_id: str | None, name: str | None, texts: str | None):
        typed = [t.strip() for t in (texts or "").splitlines() if t.strip()] if per_line else [texts or ""]
        items = typed[: config.EXPLAIN_MAX_LINES] or [""]  # "" gives the usual "type a text" message
        reports = [service.explain(name, t, root=root, owner=owner_id) for t in items]
        caption = explanation_caption(reports, len(typed))
        return gr.HighlightedText(explanation_segments(reports), visible=True), caption

    c["explain_btn"].click(explain, [owner, run, text], [c["explanation"], c["explanation_caption"]], **UI_EVENT)
    return c
