"""The Train tab's Audit section in a real headless Chromium: shown with the results, filtered, a suggestion accepted,
the corrected file downloaded.
"""

from __future__ import annotations

import csv

import pytest
from playwright.sync_api import expect

from bertdemo import config
from bertdemo.data.csvread import read_table
from tests.e2e.browsing import set_model, shot, train_and_wait

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.filterwarnings("ignore:'HTTP_422_UNPROCESSABLE_ENTITY' is deprecated"),
]


def test_audit_table_filter_accept_and_download(open_page, app_server, tmp_path):
    page = open_page()
    page.get_by_role("button", name="Use example data").click()
    page.locator("#bd-data").get_by_text("rows").first.wait_for(timeout=60_000)
    page.get_by_label("Epochs").fill("1")
    set_model(page, str(app_server.tiny))
    train_and_wait(page, "a1-audit")
    expect(page.locator("#bd-audit-summary")).to_contain_text("Data audit of", timeout=60_000)
    expect(page.locator("#bd-audit-summary")).to_contain_text("Duplicates:")
    # Filter by the given label, accept every suggestion shown, download the corrected file.
    page.get_by_label("Given label").click()
    page.get_by_role("option", name="positive", exact=True).click()
    page.wait_for_timeout(1000)
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
