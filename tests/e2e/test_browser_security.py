"""Issue 19 through the page: a visitor who closes or reloads the Predict tab leaves no worker behind."""

from __future__ import annotations

import threading
import time

import pytest
from playwright.sync_api import expect

from bertdemo import config
from tests.conftest import tiny_rows
from tests.helpers import make_tiny_run, write_csv

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.filterwarnings("ignore:'HTTP_422_UNPROCESSABLE_ENTITY' is deprecated"),
]
RUN = "tiny-closed-page"


def predict_workers() -> list[threading.Thread]:
    """The Predict tab's workers alive in this process (the app runs in it)."""
    return [t for t in threading.enumerate() if t.name == "predict-file" and t.is_alive()]


@pytest.mark.parametrize("leave", ["close", "reload"])
def test_leaving_the_page_stops_its_file_prediction(open_page, app_server, tmp_path, monkeypatch, leave):
    monkeypatch.setattr(config, "PREDICT_CHUNK_ROWS", 5)  # tiny chunks: the whole file would take minutes
    if not (app_server.root / RUN).exists():
        make_tiny_run(app_server.root, RUN)
    src = write_csv(tmp_path / "long.csv", tiny_rows(config.PREDICT_MAX_ROWS // 2))
    page = open_page()
    page.get_by_role("tab", name="Predict").click()
    page.locator("#bd-pcsv input[type=file]").set_input_files(str(src))
    expect(page.get_by_label("Text column").filter(visible=True)).to_have_value("text", timeout=30_000)
    expect(page.get_by_label("Run", exact=True).filter(visible=True)).to_have_value(RUN, timeout=30_000)
    page.get_by_role("button", name="Predict the file").click()
    expect(page.locator("#bd-predict-status")).to_contain_text("Predicting:", timeout=120_000)
    assert predict_workers()
    if leave == "close":
        page.context.close()
    else:
        page.reload()
    deadline = time.time() + 20
    while predict_workers():
        assert time.time() < deadline, "the worker of a page that went away kept predicting"
        time.sleep(0.2)
