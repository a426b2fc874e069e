"""What the browser tests share: where Chromium is, screenshots, and the steps a user takes on the Train tab."""

from __future__ import annotations

import re
from pathlib import Path

from tests.conftest import REPO

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = REPO / "test-artifacts" / "e2e"
JOB_TIMEOUT_MS = 300_000  # a training subprocess imports torch first: slow on a busy 2-core machine


def shot(page, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def load_example_and_check(page) -> None:
    page.get_by_role("button", name="Use example data").click()
    page.get_by_text("usable rows").first.wait_for(timeout=60_000)
    page.get_by_text("Preview (first rows as read)").first.wait_for()
    page.get_by_text("Rows per class").first.wait_for(timeout=30_000)  # plotly draws a moment later


def set_model(page, model: str) -> None:
    box = page.get_by_label("Base model")
    box.click()
    box.fill(model)
    box.press("Enter")
    page.get_by_label("Epochs").click()  # leave the box: the custom value is committed


def train_and_wait(page, stem: str) -> str:
    """Press Train, see progress and curves, wait for the results; returns the run name."""
    page.get_by_role("button", name="Train", exact=True).click()
    page.locator(".bd-running").wait_for(timeout=60_000)
    assert page.get_by_role("button", name="Stop and discard").is_enabled()
    shot(page, f"{stem}-1-training")
    page.locator("#bd-curves .js-plotly-plot").wait_for(timeout=JOB_TIMEOUT_MS)
    page.locator(".bd-done, .bd-failed, .bd-stopped").wait_for(timeout=JOB_TIMEOUT_MS)
    assert page.locator(".bd-done").count(), page.locator("#bd-progress").inner_text()
    page.locator("#bd-results").wait_for(timeout=30_000)
    text = page.locator("#bd-results").inner_text()
    assert "accuracy" in text and "macro-F1" in text
    assert page.get_by_text("Per class (validation)").first.is_visible()
    assert page.get_by_text("Device:").first.is_visible()
    shot(page, f"{stem}-2-done")
    return re.search(r"Saved (\S+):", text).group(1)


def try_it(page, stem: str, labels: set[str]) -> None:
    page.get_by_label("Text", exact=True).fill("Absolutely love it, works perfectly and arrived early.")
    page.get_by_role("button", name="Classify").click()
    prediction = page.locator("#bd-prediction")
    page.wait_for_function(
        "labels => labels.some(l => (document.querySelector('#bd-prediction')?.innerText || '').includes(l))",
        arg=sorted(labels),
        timeout=60_000,
    )
    assert "%" in prediction.inner_text()
    shot(page, f"{stem}-3-try-it")
