"""The app in a real headless Chromium (Debian's, through Playwright): what only a browser shows.

Screenshots of every stage land in test-artifacts/e2e/ (git-ignored), to be looked at.
"""

from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import expect

from bertdemo import config
from tests.e2e.browsing import JOB_TIMEOUT_MS, load_example_and_check, set_model, shot, train_and_wait, try_it

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.filterwarnings("ignore:'HTTP_422_UNPROCESSABLE_ENTITY' is deprecated"),
]

SHARED: dict[str, object] = {}  # what one test leaves for the next (the run it trained, whose browser)


def test_train_tiny_model_end_to_end(open_page, app_server):
    page = open_page()
    shot(page, "01-start")
    load_example_and_check(page)
    shot(page, "02-data")
    page.get_by_label("Epochs").fill("1")
    set_model(page, str(app_server.tiny))
    name = train_and_wait(page, "03-tiny")
    assert (app_server.root / name / "run.json").is_file()
    try_it(page, "03-tiny", {"negative", "neutral", "positive"})
    SHARED["run"] = name
    SHARED["state"] = page.context.storage_state()  # the run is private to this browser


def test_reload_reattaches_other_users_are_told_busy_and_stop_saves_nothing(open_page, app_server):
    page = open_page()
    page.get_by_role("button", name="Use example data").click()
    page.get_by_text("usable rows").first.wait_for(timeout=60_000)
    page.get_by_label("Epochs").fill("50")  # with batch 1, thousands of steps: still running when we stop it
    page.get_by_label("Batch size").fill("1")
    set_model(page, str(app_server.tiny))
    page.get_by_role("button", name="Train", exact=True).click()
    try:
        page.locator(".bd-running").wait_for(timeout=60_000)
        job_name = re.search(r"(tiny-\S+)", page.locator("#bd-progress").inner_text()).group(1)

        other = open_page()  # another browser: its own owner id, no job of its own
        # The page fills the progress box on load: wait for it rather than read it at once.
        expect(other.locator("#bd-progress")).to_contain_text("No training yet", timeout=30_000)
        # Told on arrival, before filling in anything, that the machine is busy.
        expect(other.locator("#bd-busy")).to_contain_text("another user's training is running", timeout=30_000)
        shot(other, "04-other-user-arrives-busy")
        other.get_by_role("button", name="Use example data").click()
        other.get_by_text("usable rows").first.wait_for(timeout=60_000)
        # One training at a time: Train is off while it runs, and the notice says why (issue 29 item 17).
        expect(other.get_by_role("button", name="Train", exact=True)).to_be_disabled(timeout=30_000)
        expect(other.locator("#bd-busy")).to_contain_text("it is off until then")
        shot(other, "04-other-user-busy")

        page.reload()
        page.locator(f"#bd-progress:has-text('{job_name}')").wait_for(timeout=60_000)  # the same job, again
        page.locator(".bd-running").wait_for()
        # The form shows the settings of the job it re-attached to, not the defaults.
        expect(page.get_by_label("Epochs")).to_have_value("50", timeout=30_000)
        expect(page.get_by_label("Batch size (0 = auto)")).to_have_value("1")
        expect(page.get_by_label("Base model")).to_have_value(str(app_server.tiny))
        expect(page.get_by_label("Run name")).to_have_value(job_name)
        expect(page.locator("#bd-busy")).not_to_contain_text("Busy")  # its own job is no other user's
        shot(page, "04-reloaded")
        page.get_by_role("button", name="Stop and discard").click()
        page.locator(".bd-stopped").wait_for(timeout=120_000)
        assert "nothing" in page.locator("#bd-progress").inner_text().lower()
        shot(page, "04-stopped")
        assert not (app_server.root / job_name).exists()
        assert page.get_by_role("button", name="Train", exact=True).is_enabled()
    finally:
        # On a failure above, the long job must not run on into the next tests and save a model there.
        active = app_server.runner.active_job()
        if active:
            app_server.runner.stop(active)
            app_server.runner.wait(active, timeout=120)


def test_bad_file_shows_a_message_and_the_page_keeps_working(open_page, tmp_path):
    page = open_page()
    bad = tmp_path / "sales.csv"
    bad.write_bytes(b"PK\x03\x04" + b"\x00" * 100)  # an Excel file renamed to .csv
    page.locator("#bd-csv input[type=file]").set_input_files(str(bad))
    page.get_by_text("This data cannot be used yet").first.wait_for(timeout=60_000)
    assert "Traceback" not in page.content()
    shot(page, "05-bad-file")
    load_example_and_check(page)


def test_charts_models_export_compare_tabs(open_page, app_server):
    assert "run" in SHARED, "needs the run of the first test"
    name = SHARED["run"]
    page = open_page(SHARED["state"])  # the same browser as the one that trained it

    page.get_by_role("tab", name="Charts").click()
    page.get_by_text("Settings and scores").first.wait_for()
    page.wait_for_function("() => document.querySelectorAll('.js-plotly-plot').length > 0", timeout=30_000)
    shot(page, "06-charts")

    page.get_by_role("tab", name="Models").click()
    expect(page.locator("#bd-models")).to_contain_text(name, timeout=30_000)
    shot(page, "07-models")

    page.get_by_role("tab", name="Export").click()
    page.get_by_text("has no ONNX export yet").first.wait_for(timeout=30_000)
    page.get_by_role("button", name="Export to ONNX").click()
    page.get_by_text("Exported", exact=False).first.wait_for(timeout=JOB_TIMEOUT_MS)
    expect(page.locator("#bd-export-checks")).to_contain_text("onnx-int8")
    shot(page, "08-export")

    page.get_by_role("tab", name="Compare").click()
    page.get_by_label("Reviews, one per line").fill("Great value, would buy again.\nBroke after a day.")
    page.get_by_role("button", name="Compare back-ends").click()
    page.get_by_text("Speed, size and validation accuracy per back-end").first.wait_for(timeout=JOB_TIMEOUT_MS)
    expect(page.locator("#bd-answers")).to_contain_text("Broke after a day.")
    shot(page, "09-compare")
    assert len(page.get_by_role("tab").all()) == 6  # the tab bar stays whole (Predict is the sixth)

    page.get_by_role("tab", name="Models").click()
    expect(page.locator("#bd-models")).to_contain_text("onnx")  # the export is listed
    page.get_by_role("button", name="Download as zip").click()
    expect(page.locator("#bd-zip")).to_contain_text(".zip", timeout=60_000)
    expect(page.locator("#bd-zip")).to_contain_text(name)
    page.once("dialog", lambda dialog: dialog.accept())  # "Delete the run ...?"
    page.get_by_role("button", name="Delete run").click()
    expect(page.locator("#bd-models")).not_to_contain_text(name, timeout=30_000)
    shot(page, "10-models-after-delete")
    assert not (app_server.root / name).exists()


@pytest.mark.slow
def test_train_bundled_default_model_from_the_ui(open_page, app_server):
    """The real default (bundled MiniLM) for one epoch on the example data, as a first-time user would."""
    page = open_page()
    load_example_and_check(page)
    assert page.get_by_label("Base model").input_value() == config.DEFAULT_MODEL
    page.get_by_label("Epochs").fill("1")
    started = time.time()
    name = train_and_wait(page, "11-minilm")
    assert name.startswith("all-MiniLM-L6-v2-")
    try_it(page, "11-minilm", {"negative", "neutral", "positive"})
    print(f"bundled model, 1 epoch from the UI: {time.time() - started:.0f} s")
