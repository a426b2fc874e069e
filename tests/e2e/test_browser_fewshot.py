"""Few labeled rows in the browser: the quick model is tried while fine-tuning runs, then the final run is exported
and compared. Screenshots land in test-artifacts/e2e/ (git-ignored)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.conftest import tiny_rows
from tests.e2e.browsing import JOB_TIMEOUT_MS, set_model, shot
from tests.e2e.test_user_path import pick
from tests.helpers import write_csv

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.filterwarnings("ignore:'HTTP_422_UNPROCESSABLE_ENTITY' is deprecated"),
]


def test_24_rows_quick_model_tried_while_training_then_final_run_exported_and_compared(open_page, app_server, tmp_path):
    page = open_page()
    page.locator("#bd-csv input[type=file]").set_input_files(str(write_csv(tmp_path / "few.csv", tiny_rows(12))))
    page.get_by_text("usable rows").first.wait_for(timeout=60_000)
    page.get_by_label("Epochs").fill("15")  # long enough to try the quick model while it runs
    page.get_by_label("Batch size").fill("1")
    set_model(page, str(app_server.tiny))
    page.get_by_role("button", name="Train", exact=True).click()
    device = page.locator("#bd-device")
    expect(device).to_contain_text("Quick model", timeout=JOB_TIMEOUT_MS)
    quick = re.search(r"(\S+-quick)", device.inner_text()).group(1)
    assert "validation accuracy" in device.inner_text() and "Baseline (bag-of-words)" in device.inner_text()
    pick(page, "Saved run", quick)
    page.get_by_label("Text", exact=True).fill("Absolutely love it, works perfectly and arrived early.")
    page.get_by_role("button", name="Classify").click()
    page.wait_for_function(
        "() => /positive|negative/.test(document.querySelector('#bd-prediction')?.innerText || '')", timeout=60_000
    )
    assert page.locator(".bd-running").count(), "the quick model answered while fine-tuning ran"
    shot(page, "f1-quick-model-tried")
    page.locator(".bd-done, .bd-failed, .bd-stopped").wait_for(timeout=JOB_TIMEOUT_MS)
    assert page.locator(".bd-done").count(), page.locator("#bd-progress").inner_text()
    page.locator("#bd-results").wait_for(timeout=30_000)
    name = re.search(r"Saved (\S+):", page.locator("#bd-results").inner_text()).group(1)
    assert name + "-quick" == quick and not (app_server.root / quick).exists()
    page.get_by_role("tab", name="Export").click()
    pick(page, "Run", name)
    page.get_by_role("button", name="Export to ONNX").click()
    expect(page.locator("#bd-export-note")).to_contain_text("same label as PyTorch", timeout=JOB_TIMEOUT_MS)
    shot(page, "f2-final-exported")
    page.get_by_role("tab", name="Compare").click()
    pick(page, "Run", name)
    page.get_by_label("Reviews, one per line").fill("great phone\nbroken film")
    page.get_by_role("button", name="Compare back-ends").click()
    page.get_by_text("Speed, size and validation accuracy per back-end").first.wait_for(timeout=JOB_TIMEOUT_MS)
    shot(page, "f3-final-compared")
