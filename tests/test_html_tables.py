"""Read-only HTML tables (bertdemo/ui/html_tables.py): escaped, long texts cut with the whole text kept."""

from __future__ import annotations

from bertdemo.ui.html_tables import TEXT_SHOWN, cut_text, html_table


def test_a_long_text_is_cut_and_kept_whole_behind_a_click() -> None:
    text = "word " * 100
    cell = cut_text(text)
    assert cell.startswith("<details><summary>") and "…</summary>" in cell
    assert cell.split("</summary>")[1].startswith(text[:TEXT_SHOWN])  # the whole text follows
    assert cut_text("short") == "short"


def test_cells_are_escaped_and_disagreeing_rows_flagged() -> None:
    page = html_table(["label", "text"], [["<b>x</b>", "fine"], ["y", "<script>"]], ("text",), [False, True])
    assert "<b>x</b>" not in page and "&lt;b&gt;x&lt;/b&gt;" in page and "&lt;script&gt;" in page
    assert page.count('<tr class="bd-flag">') == 1
    assert html_table(["a"], [], empty="Nothing here.").endswith('<p class="bd-table-empty">Nothing here.</p>')
