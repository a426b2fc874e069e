"""The Train tab's Audit section in a real headless Chromium: shown with the results, filtered, a suggestion accepted,
the corrected file downloaded; the counts, the rows listed and "accept all" agree; and, with the CPU slowed 4x,
the page stays responsive while the results arrive and when a filter changes (bench/ui_bench.py reports it).
"""

from __future__ import annotations

import csv
import re

import pytest
from playwright.sync_api import expect

from bench import page_timing
from bertdemo import config
from bertdemo.data.csvread import read_table
from tests.e2e.browsing import set_model, shot, train_and_wait

CPU_SLOWDOWN = 4  # a phone or an old laptop
# Sanity bounds on a shared, loaded 2-core machine; bench/ui_bench.py reports the figures against the targets
# (total blocking time <= 2 s, no task over 1 s, a filter change <= 500 ms). The old editable 200-row table
# blocked for minutes.
MAX_BLOCKING_MS = 10_000
MAX_TASK_MS = 4_000
MAX_FILTER_MS = 5_000
RESULTS_SHOWN = "#bd-audit-table table, #bd-audit-table .bd-table-empty"
pytestmark = [
    pytest.mark.e2e,
    pytest.mark.filterwarnings("ignore:'HTTP_422_UNPROCESSABLE_ENTITY' is deprecated"),
]


def _table_rows(page) -> list[list[str]]:
    return page.evaluate(
        "() => [...document.querySelectorAll('#bd-audit-table tbody tr')].map(r => [...r.cells].map(c => c.innerText))"
    )


def test_audit_table_filter_accept_and_download(browser, app_server, tmp_path):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page_timing.observe(page)
    page.goto(app_server.url)
    page.get_by_role("button", name="Use example data").click()
    page.locator("#bd-data").get_by_text("rows").first.wait_for(timeout=60_000)
    page.get_by_label("Epochs").fill("1")
    set_model(page, str(app_server.tiny))
    cdp = page_timing.throttle(page, CPU_SLOWDOWN)  # noqa: F841 - the session keeps the slowdown on
    page_timing.mark_when_shown(page, "done", ".bd-done")
    page_timing.mark_when_shown(page, "results", RESULTS_SHOWN)
    train_and_wait(page, "a1-audit")
    expect(page.locator("#bd-audit-summary")).to_contain_text("Data audit of", timeout=60_000)
    page.locator(RESULTS_SHOWN).first.wait_for(timeout=120_000)
    end = page_timing.settle(page)
    marks = page_timing.marks(page)
    arrival = page_timing.blocking(page, marks["done"], end)
    expect(page.locator("#bd-audit-summary")).to_contain_text("Duplicates:")

    # Item 8: the count, the rows listed and "accept every suggestion shown" agree; each listed row suggests a change.
    summary = page.locator("#bd-audit-summary").inner_text()
    flagged = int(re.search(r"([\d,]+) of [\d,]+ rows look mislabeled", summary).group(1).replace(",", ""))
    pager = page.locator("#bd-audit-pager").inner_text()
    assert (f"of {flagged:,} flagged" in pager) if flagged else "No flagged row" in pager, (summary, pager)
    rows = _table_rows(page)
    assert len(rows) == min(flagged, config.AUDIT_PAGE_ROWS), (len(rows), flagged)
    # Item 9: one epoch of a tiny random model: the summary says its evidence is weak, and why.
    assert "Weak run" in summary and "1 epoch(s) of training dynamics" in summary, summary
    given_suggested = [r[3].split(" → ") for r in rows]
    assert all(given != suggested for given, suggested in given_suggested), given_suggested

    # Filter by the given label: the table answers within the bound, without a long freeze.
    page.get_by_label("Given label").click()
    start = page_timing.mark_next_change(page, "filtered", "#bd-audit-table")
    page.get_by_role("option", name="positive", exact=True).click()
    page.wait_for_function("() => (window.__marks || {}).filtered", timeout=60_000)
    filter_ms = page_timing.marks(page)["filtered"] - start
    filtering = page_timing.blocking(page, start, page_timing.settle(page))
    print(f"4x slower CPU: results {arrival}, filter {filter_ms:.0f} ms {filtering}")
    assert arrival["total_blocking_ms"] <= MAX_BLOCKING_MS and arrival["longest_task_ms"] <= MAX_TASK_MS, arrival
    assert filter_ms <= MAX_FILTER_MS and filtering["longest_task_ms"] <= MAX_TASK_MS, (filter_ms, filtering)
    positives = int(re.search(r"of ([\d,]+) flagged", page.locator("#bd-audit-pager").inner_text()).group(1))
    assert all(r[3].startswith("positive →") for r in _table_rows(page))

    # Accept every suggestion shown (every page of the filter), download the corrected file.
    shot(page, "a2-audit-filtered")
    page.get_by_role("button", name="Accept every suggestion shown").click()
    page.wait_for_timeout(1000)
    page.get_by_role("button", name="Download the corrected file").click()
    link = page.locator("#bd-audit-file a").first
    expect(link).to_be_visible(timeout=60_000)
    with page.expect_download() as info:
        link.click()
    path = tmp_path / "corrected.csv"
    info.value.save_as(path)
    shot(page, "a3-audit-downloaded")
    with open(path, newline="", encoding="utf-8") as fh:
        out = list(csv.DictReader(fh))
    original = read_table(config.EXAMPLE_CSV)
    li = original.columns.index("label")
    assert len(out) == len(original.rows)
    assert [r["suggested_label"] != "" for r in out].count(True) == len(out)  # every row of the file was audited
    changed = [
        (a[li], b["label"], b["suggested_label"])
        for a, b in zip(original.rows, out, strict=True)
        if a[li] != b["label"]
    ]
    # Only rows labeled positive changed, each to its suggestion; the tiny random model suggests others for some.
    assert changed and all(old == "positive" and new == suggested for old, new, suggested in changed), changed
    assert len(changed) == positives, (len(changed), positives)  # every flagged positive row, and only those
    context.close()
    assert not errors, errors
