"""The audit section's pure views (bertdemo/ui/audit_view.py): flagged rows only, pages of 25, accepting."""

from __future__ import annotations

from bertdemo import config
from bertdemo.ui import audit_view


def _rows(n: int) -> list[dict]:
    return [
        {
            "row": i + 1,
            "text": f"text {i}",
            "given_label": "pos" if i % 2 else "neg",
            "suggested_label": "neg" if i % 2 else "pos",
            "score": 0.9,
            "reason": "bag-of-words disagrees",
            "kind": "bag-of-words disagrees",
            "flagged": i % 3 != 0,  # every third row: its suggestion is its own label, not listed
        }
        for i in range(n)
    ]


def test_only_flagged_rows_are_listed_paged_and_accepted() -> None:
    rows = _rows(90)
    shown = audit_view.filtered(rows, audit_view.ALL, audit_view.ALL)
    assert len(shown) == 60 and all(r["flagged"] for r in shown)
    assert audit_view.page_count(len(shown)) == 3
    assert len(audit_view.page_rows(shown, 2)) == 60 - 2 * config.AUDIT_PAGE_ROWS
    assert audit_view.page_rows(shown, 9) == audit_view.page_rows(shown, 2)  # clamped
    assert "Rows 26–50 of 60 flagged (page 2 of 3)" in audit_view.pager_text(60, 1)
    assert audit_view.filtered(rows, "pos", audit_view.ALL) == [r for r in shown if r["given_label"] == "pos"]


def test_ticks_on_one_page_keep_the_other_pages_accepted() -> None:
    assert audit_view.accepted_after_pick([3], shown=[2, 3, 4], accepted=[2, 40]) == [3, 40]
    html = audit_view.table_html(_rows(3)[1:], accepted=[2])
    assert html.count("✓") == 1 and "pos → neg" in html
