"""Fixtures of the browser tests: one headless Chromium per module, a fresh context (a new visitor) per page."""

from __future__ import annotations

import pytest

from tests.e2e.browsing import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing: apt-get install chromium")
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def open_page(browser, app_server):
    """Open the app in a fresh browser context (its own localStorage: a different user).

    `state` (a context's storage_state()) opens it as that same user again, in a new context.
    """
    contexts, errors = [], []

    def _open(state: dict | None = None):
        context = browser.new_context(viewport={"width": 1280, "height": 900}, storage_state=state)
        contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(app_server.url)
        page.get_by_role("button", name="Use example data").wait_for(timeout=60_000)
        return page

    yield _open
    for context in contexts:
        context.close()
    assert not errors, f"JavaScript errors in the page: {errors}"
