"""A new user's path through the app in Chromium (issue 10): no dead ends, private runs, feedback on every wait.

The tests run in order and share one app: the first trains a run that the later ones look for, delete and
compare. Screenshots land in test-artifacts/e2e/ (git-ignored).
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from bertdemo.onnx.export import export_run
from bertdemo.runs import store
from tests.e2e.browsing import JOB_TIMEOUT_MS, set_model, shot, train_and_wait
from tests.helpers import make_tiny_run

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.filterwarnings("ignore:'HTTP_422_UNPROCESSABLE_ENTITY' is deprecated"),
]

SHARED: dict[str, object] = {}  # the run the first test trains, and the browser state that owns it


def short_texts_long_labels(path: Path) -> Path:
    """`msg_id,utterance_en,outcome_description`: short texts, labels longer than them. Detection cannot tell."""
    good, bad = ["great", "superb", "lovely"], ["awful", "broken", "dreadful"]
    things = ["phone", "film", "meal", "hotel", "book"]
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["msg_id", "utterance_en", "outcome_description"])
        for i in range(15):
            thing = things[i % len(things)]
            writer.writerow([f"m{2 * i:05d}", f"{good[i % 3]} {thing} {i}", "the customer liked it, would buy again"])
            writer.writerow([f"m{2 * i + 1:05d}", f"{bad[i % 3]} {thing} {i}", "the customer did not like it at all"])
    return path


def field(page, label: str):
    """The visible form field with this label (Export and Compare both have a 'Run')."""
    return page.get_by_label(label, exact=True).filter(visible=True)


def options(page, box):
    """The options listed by this dropdown (each dropdown's list is its own, even when two are open)."""
    listbox = box.get_attribute("aria-controls")
    return page.locator(f"[id='{listbox}'] [role=option]") if listbox else page.get_by_role("option")


def pick(page, label: str, option: str) -> None:
    """Choose an option of a dropdown as a user does: open it, click the option."""
    box = field(page, label)
    box.click()
    options(page, box).filter(has_text=option).filter(visible=True).first.click()
    expect(box).to_have_value(re.compile(re.escape(option)))


def choices(page, label: str) -> list[str]:
    """The options a dropdown offers right now."""
    box = field(page, label)
    box.click()
    page.wait_for_timeout(300)  # the list opens on the next frame
    found = options(page, box).all_inner_texts()
    box.press("Escape")
    return [o.replace("✓", "").strip() for o in found]


RUN_DROPDOWNS = (
    ("Train", "Saved run"),
    ("Charts", "Runs"),
    ("Export", "Run"),
    ("Compare", "Run"),
    ("Models", "Selected run"),
)


def chart_choices(page) -> list[str]:
    """The runs the Charts tab's multi-select offers: those picked (tokens) and those listed (its label is not
    tied to its input, so it is found by id)."""
    block = page.locator("#bd-chart-runs")
    picked = [t.strip() for t in block.locator(".token").all_inner_texts()]
    block.locator("input").click()
    page.wait_for_timeout(300)
    listed = [o.replace("✓", "").strip() for o in block.locator("[role=option]").all_inner_texts()]
    block.locator("input").press("Escape")
    return sorted(set(picked + listed))


def run_lists(page) -> dict[str, list[str]]:
    """The runs offered by every run dropdown of the page, tab by tab (opening a tab refreshes its list)."""
    found = {}
    for tab, label in RUN_DROPDOWNS:
        page.get_by_role("tab", name=tab).click()
        page.wait_for_timeout(1_000)  # the refresh on opening a tab is one round trip
        found[tab] = chart_choices(page) if tab == "Charts" else choices(page, label)
    return found


def test_unlisted_columns_picked_by_hand_then_trained(open_page, app_server, tmp_path):
    page = open_page()
    path = short_texts_long_labels(tmp_path / "chat_export.csv")
    page.locator("#bd-csv input[type=file]").set_input_files(str(path))
    page.get_by_text("This data cannot be used yet").first.wait_for(timeout=60_000)
    summary = page.locator("#bd-data")
    expect(summary).to_contain_text("Could not tell which column holds the labels")
    expect(summary).to_contain_text("Pick the Text column and Label column")
    assert "--" not in summary.inner_text()  # no command-line flag in the page
    # Not a dead end: both dropdowns list every column of the file.
    columns = ["msg_id", "utterance_en", "outcome_description"]
    assert choices(page, "Text column") == columns and choices(page, "Label column") == columns
    shot(page, "20-unlisted-columns-refused")
    # Train on the refused file says what is wrong with it, not "No CSV file yet" (the file is still there).
    page.get_by_role("button", name="Train", exact=True).click()
    toast = page.locator(".toast-body").filter(has_text="Could not tell which column")
    expect(toast.first).to_be_visible(timeout=30_000)
    expect(page.locator(".toast-body").filter(has_text="No CSV file yet")).to_have_count(0)
    shot(page, "20b-train-on-refused-file")
    pick(page, "Text column", "utterance_en")
    pick(page, "Label column", "outcome_description")
    page.get_by_text("usable rows").first.wait_for(timeout=60_000)
    expect(page.get_by_text("This data cannot be used yet")).to_have_count(0)
    shot(page, "21-unlisted-columns-picked")
    page.get_by_label("Epochs").fill("1")
    set_model(page, str(app_server.tiny))
    name = train_and_wait(page, "22-picked-columns")
    info = store.load_run(name, app_server.root)
    assert (info["data"]["text_column"], info["data"]["label_column"]) == ("utterance_en", "outcome_description")
    assert info.get("owner")  # trained in a browser: private to it
    SHARED.update(run=name, state=page.context.storage_state())


def test_a_second_browser_cannot_see_or_delete_the_first_ones_run(open_page, app_server):
    name = SHARED["run"]
    make_tiny_run(app_server.root, "shipped")  # a run shipped with the app: seen by all, read-only
    first = open_page(SHARED["state"])
    lists = run_lists(first)
    assert all(name in runs and "shipped" in runs for runs in lists.values()), lists

    second = open_page()
    lists = run_lists(second)
    assert all(name not in runs and "shipped" in runs for runs in lists.values()), lists
    second.get_by_role("tab", name="Models").click()
    table = second.locator("#bd-models")
    expect(table).to_contain_text("shipped", timeout=30_000)
    expect(table).not_to_contain_text(name)
    expect(table).to_contain_text("shared (read-only)")
    pick(second, "Selected run", "shipped")
    expect(second.get_by_role("button", name="Delete run")).to_be_disabled()  # read-only here
    shot(second, "23-second-browser-models")
    assert (app_server.root / name / store.RUN_JSON).is_file()


def test_compare_shows_progress_and_disables_its_button(open_page, app_server):
    name = SHARED["run"]
    export_run(name, optimize=True, quantize=True, root=app_server.root)  # four back-ends: a wait worth showing
    page = open_page(SHARED["state"])
    # Export: what "passed" means, and one variant downloaded alone.
    page.get_by_role("tab", name="Export").click()
    pick(page, "Run", name)
    expect(page.locator("#bd-export-note")).to_contain_text("same label as PyTorch", timeout=30_000)
    pick(page, "Download", "onnx-int8 only")
    page.locator("#bd-export-zip-btn").click()  # zipped only when asked for, in the heavy-work group
    expect(page.locator("#bd-export-zip")).to_contain_text(f"{name}-onnx-int8", timeout=60_000)  # not the 4-in-1
    shot(page, "24a-export-one-variant")
    page.get_by_role("tab", name="Compare").click()
    pick(page, "Run", name)
    page.get_by_label("Reviews, one per line").fill("great phone 99\nbroken film 98\nlovely meal 97")
    page.get_by_role("button", name="Compare back-ends").click()
    button = page.get_by_role("button", name="Comparing…")
    expect(button).to_be_disabled(timeout=5_000)
    expect(page.locator("#bd-compare-status")).to_contain_text("Comparing", timeout=5_000)
    shot(page, "24-compare-in-progress")
    page.get_by_text("Speed, size and validation accuracy per back-end").first.wait_for(timeout=JOB_TIMEOUT_MS)
    expect(page.get_by_role("button", name="Compare back-ends")).to_be_enabled(timeout=30_000)
    expect(page.locator("#bd-compare-status")).to_contain_text("Measured on")
    shot(page, "25-compare-done")


def test_a_deleted_run_disappears_from_every_dropdown(open_page, app_server):
    name = SHARED["run"]
    page = open_page(SHARED["state"])
    page.get_by_role("tab", name="Train").click()
    pick(page, "Saved run", name)  # picked in Try it before the delete, as in the issue
    page.get_by_role("tab", name="Models").click()
    pick(page, "Selected run", name)
    page.once("dialog", lambda dialog: dialog.accept())  # "Delete the run ...?"
    page.get_by_role("button", name="Delete run").click()
    expect(page.locator("#bd-models")).not_to_contain_text(name, timeout=30_000)
    assert not (app_server.root / name).exists()
    page.get_by_role("tab", name="Train").click()
    expect(field(page, "Saved run")).not_to_have_value(name, timeout=30_000)
    lists = run_lists(page)
    assert all(name not in runs and "shipped" in runs for runs in lists.values()), lists
    shot(page, "26-deleted-run-gone")
