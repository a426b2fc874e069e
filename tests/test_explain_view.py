"""The words under an explanation (no gradio events, no browser)."""

from __future__ import annotations

from bertdemo import config
from bertdemo.ui.explain_view import explanation_caption


def test_the_caption_says_how_many_typed_lines_were_left_out():
    """Issue 29 item 12: Compare explained 5 of 6 typed texts without a word about the sixth."""
    reports = [{"seconds": 0.5, "delta": 0.01}] * config.EXPLAIN_MAX_LINES
    caption = explanation_caption(reports, config.EXPLAIN_MAX_LINES + 1)
    assert f"Explained the first {config.EXPLAIN_MAX_LINES} of your {config.EXPLAIN_MAX_LINES + 1} lines" in caption
    assert "1 line left out" in caption
    assert "left out" not in explanation_caption(reports, config.EXPLAIN_MAX_LINES)
    assert explanation_caption([], 3) == ""
