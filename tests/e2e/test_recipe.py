"""The adaptive recipe in the browser: the auto settings and the baseline are shown, and a stop keeps the best epoch.

Screenshots land in test-artifacts/e2e/ (git-ignored).
"""

from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import expect

from tests.e2e.browsing import JOB_TIMEOUT_MS, load_example_and_check, set_model, shot, train_and_wait

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.filterwarnings("ignore:'HTTP_422_UNPROCESSABLE_ENTITY' is deprecated"),
]


def test_auto_settings_and_baseline_are_shown(open_page, app_server):
    page = open_page()
    load_example_and_check(page)
    data = page.locator("#bd-data")
    # Before training: what auto would choose for this file, and the bag-of-words score to beat.
    expect(data).to_contain_text("Settings on auto would be", timeout=30_000)
    expect(data).to_contain_text(re.compile(r"epochs \d+ \(auto"))
    expect(data).to_contain_text(re.compile(r"max length \d+ \(auto"))
    expect(data).to_contain_text("Baseline (bag-of-words)")
    shot(page, "20-auto-data-report")
    expect(page.get_by_label("Epochs")).to_have_value("0")  # 0 = auto, the default
    set_model(page, str(app_server.tiny))
    name = train_and_wait(page, "21-auto")
    device = page.locator("#bd-device").inner_text()
    assert re.search(r"epochs \d+ \(auto", device) and re.search(r"max length \d+ \(auto", device), device
    assert "Baseline (bag-of-words)" in device, device
    results = page.locator("#bd-results").inner_text()
    assert "vs bag-of-words" in results, results
    saved = json.loads((app_server.root / name / "run.json").read_text())
    assert saved["params"]["epochs"] > 3 and saved["baseline"]["accuracy"] is not None
    shot(page, "21-auto-3-results")


def test_stop_keeps_the_best_epoch(open_page, app_server):
    page = open_page()
    load_example_and_check(page)
    page.get_by_label("Epochs").fill("40")  # long enough to be stopped after its first epochs
    page.get_by_label("Batch size").fill("2")
    set_model(page, str(app_server.tiny))
    page.get_by_role("button", name="Train", exact=True).click()
    keep = page.locator("#bd-stop-keep")
    expect(keep).to_be_enabled(timeout=JOB_TIMEOUT_MS)  # once an epoch has been evaluated
    shot(page, "22-keep-best-1-running")
    keep.click()
    page.locator(".bd-done, .bd-failed, .bd-stopped").wait_for(timeout=JOB_TIMEOUT_MS)
    assert page.locator(".bd-done").count(), page.locator("#bd-progress").inner_text()
    page.locator("#bd-results").wait_for(timeout=30_000)
    name = re.search(r"Saved (\S+):", page.locator("#bd-results").inner_text()).group(1)
    saved = json.loads((app_server.root / name / "run.json").read_text())
    assert saved["stopped_early"]["kept_epoch"] and len(saved["history"]) < 40
    shot(page, "22-keep-best-2-saved")
