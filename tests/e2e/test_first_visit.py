"""What a first-time visitor trips on (issue 22), in a real headless Chromium over `python app.py`.

The app runs as its own process so that its log is the real server log: no test may leave a traceback there.
Screenshots land in test-artifacts/e2e/ (git-ignored). Tests share one trained tiny run (the first test trains it).
"""

from __future__ import annotations

import os
import re
import signal
from types import SimpleNamespace

import pytest
from playwright.sync_api import expect

from bench.appprocess import start_app
from tests.conftest import free_port, tiny_rows
from tests.e2e.browsing import JOB_TIMEOUT_MS, set_model, shot
from tests.e2e.pagechecks import (
    A11Y_JS,
    LAYOUT_JS,
    TAB_NAMES,
    VISIBLE_HEADERS_JS,
    WATCH_JS,
    open_tab,
    tab_stops,
    tracebacks,
)
from tests.helpers import make_tiny_run, write_csv

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.filterwarnings("ignore:'HTTP_422_UNPROCESSABLE_ENTITY' is deprecated"),
]
SHARED3 = "shared3"  # a shared 3-class run with its ONNX export, made before the app starts
CLASSES3 = ["negative", "neutral", "positive"]
# Gradio's progress text over a component, unless its tracker is faded out (opacity 0: "hidden").
SPINNER_SHOWN_JS = """(sel) => [...document.querySelectorAll(`${sel} .progress-text, ${sel} .eta-bar`)].some(t => {
  for (let e = t; e && !e.matches(sel); e = e.parentElement) if (getComputedStyle(e).opacity === '0') return false;
  return true; })"""
SHARED: dict[str, object] = {}  # what one test leaves for the next: the trained run, its browser


@pytest.fixture(scope="module")
def visit(tmp_path_factory, tiny_model_dir):
    """`python app.py` over a models folder holding one exported shared run; its log is kept for the checks."""
    from bertdemo import config
    from bertdemo.onnx.export import export_run

    base = tmp_path_factory.mktemp("visit")
    root = base / "models"
    root.mkdir()
    make_tiny_run(root, SHARED3, labels=CLASSES3)
    # As the operator would (the command line): visitors cannot export a shared run. The export checks give
    # each back-end's cost in accuracy.
    export_run(SHARED3, optimize=True, quantize=True, root=root)
    log = base / "app.log"
    port = free_port()
    # The operator lets visitors train from the tiny model's folder (visitors may not name server folders).
    proc = start_app(root, port, log, env_extra={config.BASE_MODELS_ENV: str(tiny_model_dir)})
    url = f"http://127.0.0.1:{port}"
    try:
        yield SimpleNamespace(
            url=url,
            root=root,
            base=base,
            log=log,
            tiny=tiny_model_dir,
            small_csv=write_csv(base / "small.csv", tiny_rows(20)),
        )
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)


@pytest.fixture
def open_page(browser, visit):
    """A fresh browser context (a new visitor, or `state`: the same one again) at `width` px."""
    contexts, errors = [], []

    def _open(state: dict | None = None, width: int = 1280):
        context = browser.new_context(viewport={"width": width, "height": 900}, storage_state=state)
        contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(visit.url)
        page.get_by_role("button", name="Use example data").wait_for(timeout=60_000)
        page.wait_for_timeout(800)  # the load event: owner id, re-attach, run lists
        return page

    yield _open
    for context in contexts:
        context.close()
    assert not errors, f"JavaScript errors in the page: {errors}"


@pytest.fixture(autouse=True)
def no_traceback_in_the_log(visit):
    """No user action may leave a traceback in the server log."""
    since = visit.log.stat().st_size
    yield
    assert not tracebacks(visit.log, since), tracebacks(visit.log, since)


def _upload(page, path) -> None:
    page.locator("#bd-csv input[type=file]").set_input_files(str(path))


def _done_line(page) -> str:
    return page.locator("#bd-progress").inner_text().strip()


# --- 7. one "Done" line that says why training stopped and which epoch is kept --------------------------------


def test_done_line_says_why_it_stopped_and_the_same_after_reload(open_page, visit):
    page = open_page()
    _upload(page, visit.small_csv)
    page.get_by_text("usable rows").first.wait_for(timeout=60_000)
    page.get_by_label("Epochs").fill("2")
    set_model(page, str(visit.tiny))
    page.get_by_role("button", name="Train", exact=True).click()
    page.locator(".bd-done, .bd-failed, .bd-stopped").wait_for(timeout=JOB_TIMEOUT_MS)
    page.locator("#bd-results").wait_for(timeout=30_000)
    live = _done_line(page)
    shot(page, "22-07-done-live")
    name = re.search(r"Saved (\S+):", page.locator("#bd-results").inner_text()).group(1)
    SHARED.update(run=name, state=page.context.storage_state())
    assert "finished all 2 epochs" in live, live  # why it stopped
    assert "kept epoch 2" in live, live  # which epoch the saved model is
    assert "step" not in live, live  # no "epoch 2/2 · step 12/14" next to a finished run

    page.reload()
    page.locator(".bd-done").wait_for(timeout=60_000)
    expect(page.locator("#bd-progress")).to_contain_text("kept epoch", timeout=30_000)
    shot(page, "22-07-done-reloaded")
    assert _done_line(page) == live


# --- 1. a reload with no job running starts from auto ------------------------------------------------------------


def test_reload_without_a_running_job_starts_from_auto(open_page):
    assert "state" in SHARED, "needs the run of the first test"
    page = open_page(SHARED["state"])
    page.locator(".bd-done").wait_for(timeout=60_000)
    page.wait_for_timeout(1500)  # the load event's form update
    shot(page, "22-01-reloaded-form")
    assert page.get_by_label("Epochs").input_value() == "0"  # auto, not the finished run's 2
    assert page.get_by_label("Text column").input_value() == ""  # no old column names without a file


# --- 6. the last run's results never sit under a new upload as if they were its results --------------------------


def test_new_upload_does_not_show_the_last_runs_results_as_its_own(open_page):
    assert "state" in SHARED, "needs the run of the first test"
    page = open_page(SHARED["state"])
    expect(page.locator("#bd-results")).to_contain_text(SHARED["run"], timeout=60_000)  # re-attached
    page.get_by_role("button", name="Use example data").click()
    page.get_by_text("usable rows").first.wait_for(timeout=60_000)
    page.wait_for_timeout(1000)
    shot(page, "22-06-new-upload")
    results = page.locator("#bd-results")
    assert not results.is_visible() or "previous run" in results.inner_text().lower(), results.inner_text()
    for label in ("Per class (validation)", "Validation rows it got wrong"):
        shown = page.get_by_text(label).first
        assert not shown.is_visible() or "previous run" in results.inner_text().lower()


# --- 2. a deleted run is let go everywhere at once ----------------------------------------------------------------


def test_deleting_a_run_lets_it_go_everywhere(open_page, visit):
    assert "state" in SHARED, "needs the run of the first test"
    name = SHARED["run"]
    page = open_page(SHARED["state"])
    expect(page.locator("#bd-results")).to_contain_text(name, timeout=60_000)
    open_tab(page, "Models")
    page.get_by_label("Selected run").filter(visible=True).click()
    page.get_by_role("option", name=name).filter(visible=True).click()
    expect(page.get_by_role("button", name="Delete run")).to_be_enabled(timeout=30_000)
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Delete run").click()
    expect(page.locator("#bd-models")).not_to_contain_text(name, timeout=30_000)
    open_tab(page, "Train")
    expect(page.locator("#bd-results")).to_be_hidden(timeout=10_000)  # its results go with it
    page.reload()
    page.get_by_role("button", name="Use example data").wait_for(timeout=60_000)
    page.wait_for_timeout(4000)  # several ticks of the status timer
    shot(page, "22-02-after-delete-reload")
    assert not page.locator("#bd-results").is_visible()
    assert name not in page.locator("#bd-progress").inner_text() or "deleted" in _done_line(page)
    SHARED.pop("run")
    # no_traceback_in_the_log: the timer no longer loads the deleted run (RunNotFound) once a second


# --- 5. the column boxes show what was detected, even when the data is refused ------------------------------------


def test_refused_data_fills_the_column_boxes_and_names_them(open_page, visit):
    page = open_page()
    one_class = write_csv(visit.base / "one-class.csv", [(f"a fine text number {i}", "pos") for i in range(6)])
    _upload(page, one_class)
    page.get_by_text("This data cannot be used yet").first.wait_for(timeout=60_000)
    shot(page, "22-05-one-class")
    expect(page.get_by_label("Text column")).to_have_value("text", timeout=10_000)
    expect(page.get_by_label("Label column")).to_have_value("label")
    message = page.locator("#bd-data").inner_text()
    assert "Pick the Text column and Label column" not in message, message
    assert "label column label" in message.replace("`", ""), message

    ambiguous = write_csv(
        visit.base / "ab.csv",
        [("hello there friend", "some thing"), ("another nice one", "other stuff"), ("third", "more words")],
        header=("a", "b"),
    )
    page = open_page()  # a fresh page: the file box holds the first file
    _upload(page, ambiguous)
    expect(page.locator("#bd-data")).to_contain_text("cannot be used yet", timeout=60_000)
    page.wait_for_timeout(500)
    shot(page, "22-05-ambiguous")
    text_box, label_box = page.get_by_label("Text column"), page.get_by_label("Label column")
    assert text_box.input_value() and label_box.input_value(), "the guessed columns are shown"
    message = page.locator("#bd-data").inner_text().replace("`", "")
    assert f"label column {label_box.input_value()}" in message, message  # the message names what was picked


# --- 3. Predict: the prediction first, percent, a label mismatch said before scoring, the back-end's cost --------


def test_predict_shows_the_prediction_first_and_says_what_the_backend_costs(open_page, visit):
    page = open_page()
    rows = tiny_rows(6) + [("Not bad at all, quite good", "good"), ("Meh", "bad")]  # two labels it does not know
    src = write_csv(visit.base / "two-class.csv", rows, header=("review", "sentiment"))
    open_tab(page, "Predict")
    page.get_by_label("Run", exact=True).filter(visible=True).click()
    page.get_by_role("option", name=SHARED3).filter(visible=True).click()
    page.locator("#bd-pcsv input[type=file]").set_input_files(str(src))
    expect(page.get_by_label("Label column (for accuracy)")).to_have_value("sentiment", timeout=30_000)
    # Before scoring: the file's classes are not the run's.
    expect(page.locator("#bd-predict-check")).to_contain_text("do not match", timeout=30_000)
    assert "bad, good" in page.locator("#bd-predict-check").inner_text()
    # The back-end in use, and what it costs against PyTorch on the run's validation rows; the user may choose.
    backend = page.locator("#bd-predict-backend")
    expect(backend).to_contain_text("PyTorch", timeout=30_000)
    assert re.search(r"[+-]\d+\.\d pts|same accuracy", backend.inner_text()), backend.inner_text()
    page.get_by_role("button", name="Predict the file").click()
    expect(page.locator("#bd-predict-status")).to_contain_text("Done", timeout=JOB_TIMEOUT_MS)
    shot(page, "22-03-predict")
    status = page.locator("#bd-predict-status").inner_text()
    assert re.search(r"Accuracy \d+\.\d%", status), status  # percent, like the rest of the page
    assert not re.search(r"\d\.\d{4}", status), status
    headers = page.evaluate(VISIBLE_HEADERS_JS, "#bd-predict-preview")
    assert headers[:3] == ["predicted_label", "probability", "review"], headers


# --- 8. one click, feedback at once; Compare: an estimate from this machine and one status -----------------------


def test_models_zip_answers_at_once_and_takes_one_click(open_page):
    page = open_page()
    open_tab(page, "Models")
    page.get_by_label("Selected run").filter(visible=True).click()
    page.get_by_role("option", name=SHARED3).filter(visible=True).click()
    page.evaluate(WATCH_JS, "#bd-models-actions")
    page.get_by_role("button", name="Download as zip").click()
    expect(page.locator("#bd-zip")).to_contain_text(".zip", timeout=60_000)  # one click is enough
    seen = page.evaluate("() => window.__seen")
    assert any("Zipping" in s for s in seen), seen  # said at once, before the zip is ready
    expect(page.get_by_role("button", name="Download as zip")).to_be_enabled()
    shot(page, "22-08-zip")


def test_compare_estimates_from_this_machine_and_shows_one_status(open_page):
    page = open_page()
    open_tab(page, "Compare")
    page.get_by_label("Run", exact=True).filter(visible=True).click()
    page.get_by_role("option", name=SHARED3).filter(visible=True).click()
    page.get_by_label("Reviews, one per line").fill("Great value.\nBroke after a day.\nIt is fine.")
    page.evaluate(WATCH_JS, "#bd-compare-status")
    page.get_by_role("button", name="Compare back-ends").click()
    expect(page.locator("#bd-compare-status")).to_contain_text("Comparing", timeout=10_000)
    busy = page.locator("#bd-compare-status").inner_text()
    assert re.search(r"about \d+ s for 3 texts", busy), busy
    # One status: no Gradio progress text drawn over the note.
    assert not page.evaluate(SPINNER_SHOWN_JS, "#bd-compare-status")
    page.get_by_text("Speed, size and validation accuracy per back-end").first.wait_for(timeout=JOB_TIMEOUT_MS)
    shot(page, "22-08-compare")
    seen = page.evaluate("() => window.__seen")
    assert not any("10 s on a CPU" in s for s in seen), seen

    # 10. Explanations of several texts, one line each.
    page.get_by_role("button", name="Explain: which words decided?").click()
    heads = page.locator("#bd-explanation-lines").get_by_text(re.compile(r"^\[(negative|neutral|positive) \d+%\]"))
    expect(heads).to_have_count(3, timeout=60_000)
    tops = sorted({round(heads.nth(i).bounding_box()["y"]) for i in range(3)})
    shot(page, "22-10-explanations")
    assert len(tops) == 3, f"the three explanations share lines: {tops}"


# --- 9. keyboard and screen readers ------------------------------------------------------------------------------


def test_keyboard_and_screen_reader_basics(open_page):
    page = open_page()
    stops = tab_stops(page, 10)
    assert not [s for s in stops if s["hidden"]], [s for s in stops if s["hidden"]]  # no invisible focus stops
    tabs = [s["text"] for s in stops if s["text"] in TAB_NAMES and s["tag"] == "BUTTON"]
    assert len(tabs) == len(set(tabs)), f"the tab bar comes twice in the tab order: {tabs}"
    assert any(s["input"] or "Drop File" in s["text"] for s in stops[:8]), stops  # the form within a few presses

    stop = page.get_by_role("button", name="Stop and discard")
    assert stop.is_disabled()
    colour = stop.evaluate("e => getComputedStyle(e).backgroundColor")
    r, g, b = (int(x) for x in re.findall(r"\d+", colour)[:3])
    assert not (r > g + 40 and r > b + 40), f"the disabled Stop button still looks red: {colour}"
    assert stop.evaluate("e => getComputedStyle(e).cursor") == "not-allowed"

    explain = page.get_by_role("button", name="Explain: which words decided?")
    box = explain.bounding_box()
    assert box["height"] >= 36 and box["width"] <= 480, f"the Explain control is a thin strip: {box}"

    open_tab(page, "Charts")
    expect(page.get_by_label("Runs", exact=True)).to_be_visible()  # the run picker has a name
    shot(page, "22-09-charts")


# --- 10. narrow screens and small things -----------------------------------------------------------------------


def test_narrow_screen_and_small_things(open_page):
    page = open_page(width=390)
    page.get_by_role("button", name="Use example data").click()
    page.get_by_text("usable rows").first.wait_for(timeout=60_000)
    page.get_by_text("Preview (first rows as read)").first.wait_for()
    page.wait_for_timeout(800)
    headers = page.evaluate(VISIBLE_HEADERS_JS, "#bd-preview")
    assert headers == ["text", "label"], f"the preview shows one column at 390 px: {headers}"
    text = page.locator("body").inner_text()
    assert "bag-of-words" in text and "Bag-of-words" not in text, "one spelling of bag-of-words"

    open_tab(page, "Charts")
    page.get_by_label("Runs", exact=True).click()
    page.get_by_role("option", name=SHARED3).filter(visible=True).click()
    page.keyboard.press("Escape")
    page.wait_for_timeout(1500)
    plot = page.locator("#bd-chart-plot .js-plotly-plot")
    plot.hover()
    page.wait_for_timeout(500)
    bar = page.locator("#bd-chart-plot .modebar").bounding_box()
    shot(page, "22-10-charts-390")
    for title in page.locator("#bd-chart-plot .gtitle, #bd-chart-plot .annotation-text").all():
        t = title.bounding_box()
        apart = t["x"] + t["width"] <= bar["x"] or bar["x"] + bar["width"] <= t["x"]
        apart = apart or t["y"] + t["height"] <= bar["y"] or bar["y"] + bar["height"] <= t["y"]
        assert apart, f"the chart toolbar covers the title {title.inner_text()!r}: {t} / {bar}"

    wide = open_page()
    open_tab(wide, "Models")
    headers = wide.evaluate(VISIBLE_HEADERS_JS, "#bd-models")
    shot(wide, "22-10-models-1280")
    assert "access" in headers, f"the access column is off-screen at 1280 px: {headers}"
    open_tab(wide, "Export")
    wide.get_by_label("Run", exact=True).filter(visible=True).click()
    wide.get_by_role("option", name=SHARED3).filter(visible=True).click()
    expect(wide.locator("#bd-export-checks")).to_contain_text("onnx-int8", timeout=30_000)
    variant = wide.locator("#bd-export-variant input")
    expect(variant).to_have_value(re.compile("every variant"), timeout=10_000)
    wide.get_by_role("button", name="Download", exact=True).click()  # the zip appears next to the picker
    expect(wide.locator("#bd-export-zip")).to_contain_text(".zip", timeout=60_000)
    shot(wide, "22-10-export-variant")
    assert variant.evaluate("e => e.scrollWidth <= e.clientWidth + 2"), variant.input_value()


# --- every tab at 1280 and 390 px: names, roles, tab order, layout; no traceback in the server log ---------------


@pytest.mark.parametrize("width", [1280, 390])
def test_every_tab_passes_the_accessibility_check_and_the_layout_walk(open_page, width):
    page = open_page(width=width)
    page.get_by_role("button", name="Use example data").click()
    page.get_by_text("usable rows").first.wait_for(timeout=60_000)
    page.wait_for_timeout(800)
    problems = {}
    for name in TAB_NAMES:
        open_tab(page, name)
        page.wait_for_timeout(700)
        shot(page, f"22-walk-{width}-{name.lower()}")
        found = page.evaluate(A11Y_JS) + page.evaluate(LAYOUT_JS)
        if found:
            problems[name] = found
    assert not problems, "\n".join(f"{tab}: {p}" for tab, found in problems.items() for p in found)


# --- issue 29: a phone sees every table and chart; Compare keeps the labels in view beside a long review ---------

LONG_REVIEW = "I wanted to like this blender, and for the first week it was fine. " * 25


def _pick_run(page, label: str, name: str) -> None:
    page.get_by_label(label, exact=True).filter(visible=True).click()
    page.get_by_role("option", name=name).filter(visible=True).click()
    page.keyboard.press("Escape")


def _compare(page, texts: str) -> None:
    _pick_run(page, "Run", SHARED3)
    page.get_by_label("Reviews, one per line").fill(texts)
    page.get_by_role("button", name="Compare back-ends").click()
    page.get_by_text("Speed, size and validation accuracy per back-end").first.wait_for(timeout=JOB_TIMEOUT_MS)
    page.locator("#bd-answers table").wait_for(timeout=30_000)
    page.wait_for_timeout(1000)  # plotly draws a moment later


def test_a_phone_sees_every_table_and_chart_with_the_key_columns_first(open_page, visit):
    page = open_page(width=390)
    page.get_by_role("button", name="Use example data").click()
    page.get_by_text("usable rows").first.wait_for(timeout=60_000)
    page.get_by_label("Epochs").fill("1")
    set_model(page, str(visit.tiny))
    page.get_by_role("button", name="Train", exact=True).click()
    page.locator(".bd-done, .bd-failed, .bd-stopped").wait_for(timeout=JOB_TIMEOUT_MS)
    page.locator("#bd-audit-table table, #bd-audit-table .bd-table-empty").first.wait_for(timeout=120_000)
    page.wait_for_timeout(1500)
    shot(page, "29-03-phone-train")
    problems = {"Train": page.evaluate(LAYOUT_JS)}
    for name, run_label in (("Charts", "Runs"), ("Models", None), ("Export", "Run"), ("Compare", None)):
        open_tab(page, name)
        if run_label:
            _pick_run(page, run_label, SHARED3)
            page.wait_for_timeout(1500)
        if name == "Compare":
            _compare(page, f"Great value.\n{LONG_REVIEW}")
        if name == "Models":
            headers = page.evaluate(VISIBLE_HEADERS_JS, "#bd-models")
            assert headers[:3] == ["name", "accuracy", "exports"], f"key columns first at 390 px: {headers}"
        shot(page, f"29-03-phone-{name.lower()}")
        problems[name] = page.evaluate(LAYOUT_JS)
    problems = {tab: found for tab, found in problems.items() if found}
    assert not problems, "\n".join(f"{tab}: {p}" for tab, found in problems.items() for p in found)


def test_compare_keeps_every_label_and_agree_in_view_beside_a_long_review(open_page):
    page = open_page()
    open_tab(page, "Compare")
    _compare(page, f"Great value.\n{LONG_REVIEW}")
    shot(page, "29-10-compare-long-review")
    headers = page.evaluate(VISIBLE_HEADERS_JS, "#bd-answers")
    for column in ("pytorch", "onnx", "onnx-int8", "agree"):
        assert column in headers, f"{column!r} is off screen at 1280 px: {headers}"
    long_cell = page.locator("#bd-answers details").first
    assert len(long_cell.inner_text()) < 300, "the long review is cut in the table"
    long_cell.locator("summary").click()
    expect(long_cell).to_contain_text(LONG_REVIEW.strip()[-60:])  # the whole text on a click
