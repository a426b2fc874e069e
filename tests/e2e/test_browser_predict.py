"""The Predict tab and the explanations in a real headless Chromium: upload, progress, download, scores, highlights.

Screenshots land in test-artifacts/e2e/ (git-ignored) next to those of test_browser.py.
"""

from __future__ import annotations

import csv

import pytest
from playwright.sync_api import expect

from bertdemo import config
from tests.conftest import tiny_rows
from tests.e2e.test_browser import shot
from tests.helpers import make_tiny_run, write_csv

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.filterwarnings("ignore:'HTTP_422_UNPROCESSABLE_ENTITY' is deprecated"),
]
RUN = "tiny-e2e"
SEEN_JS = """() => {  // every text the status line shows, however briefly
  window.__seen = [];
  const el = document.querySelector('#bd-predict-status');
  new MutationObserver(() => window.__seen.push(el.innerText)).observe(
    el, {subtree: true, childList: true, characterData: true});
}"""


@pytest.fixture(scope="module", autouse=True)
def tiny_run(app_server):
    make_tiny_run(app_server.root, RUN)


def test_predict_tab_upload_progress_download_scores(open_page, app_server, tmp_path, monkeypatch):
    monkeypatch.setattr(config, "PREDICT_CHUNK_ROWS", 10)  # the server runs in this process: many small chunks
    rows = tiny_rows(600)  # 1,200 rows: long enough for the progress line to show
    src = write_csv(tmp_path / "to-label.csv", rows, header=("review", "sentiment"))
    page = open_page()
    page.get_by_role("tab", name="Predict").click()
    page.get_by_text(f"{config.PREDICT_MAX_ROWS:,} rows").first.wait_for()  # the limits are stated
    page.locator("#bd-pcsv input[type=file]").set_input_files(str(src))
    expect(page.get_by_label("Text column").filter(visible=True)).to_have_value("review", timeout=30_000)
    expect(page.get_by_label("Label column (for accuracy)").filter(visible=True)).to_have_value("sentiment")
    expect(page.get_by_label("Run", exact=True).filter(visible=True)).to_have_value(RUN)
    shot(page, "p1-predict-ready")
    page.evaluate(SEEN_JS)
    page.get_by_role("button", name="Predict the file").click()
    expect(page.locator("#bd-predict-status")).to_contain_text("Done:", timeout=120_000)
    seen = page.evaluate("window.__seen")
    assert any("Predicting:" in s and "ETA" in s for s in seen), seen  # progress with an ETA was shown
    status = page.locator("#bd-predict-status").inner_text()
    assert "1,200 of 1,200 rows predicted with pytorch" in status and "Accuracy" in status
    expect(page.locator("#bd-predictions")).to_contain_text("to-label-predictions")
    shot(page, "p2-predict-done")
    page.get_by_text("Preview (first rows of the result)").first.wait_for()
    page.wait_for_function("() => document.querySelectorAll('.js-plotly-plot').length > 0")  # confusion matrix
    shot(page, "p2-predict-done")
    with page.expect_download() as info:
        page.locator("#bd-predictions a").first.click()
    path = tmp_path / "downloaded.csv"
    info.value.save_as(path)
    with open(path, newline="", encoding="utf-8") as fh:
        out = list(csv.DictReader(fh))
    assert len(out) == len(rows) and [r["review"] for r in out[:3]] == [r[0] for r in rows[:3]]
    assert list(out[0])[2:] == ["predicted_label", "prob_negative", "prob_positive"]


def test_explanations_on_try_it_and_compare(open_page):
    page = open_page()
    expect(page.get_by_label("Saved run").filter(visible=True)).to_have_value(RUN, timeout=30_000)
    page.get_by_label("Text", exact=True).filter(visible=True).fill("An unbelievably moving story")
    page.get_by_role("button", name="Explain: which words decided?").filter(visible=True).click()
    box = page.locator("#bd-explanation")
    expect(box).to_contain_text("unbelievably", timeout=60_000)
    expect(box).to_contain_text("story")
    expect(page.get_by_text("completeness error").first).to_be_visible()
    box.scroll_into_view_if_needed()
    shot(page, "p3-explain-try-it")

    page.get_by_role("tab", name="Compare").click()
    expect(page.get_by_label("Run", exact=True).filter(visible=True)).to_have_value(RUN, timeout=30_000)
    page.get_by_label("Reviews, one per line").fill("Great value, would buy again.\nBroke after a day.")
    page.get_by_role("button", name="Explain: which words decided?").filter(visible=True).click()
    lines = page.locator("#bd-explanation-lines")
    expect(lines).to_contain_text("Broke", timeout=60_000)
    expect(lines).to_contain_text("Great")
    shot(page, "p4-explain-compare")
    assert len(page.get_by_role("tab").all()) == 6  # the tab bar stays whole with Predict in it
