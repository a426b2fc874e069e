"""Browser fixtures shared by every e2e module (defined in test_browser.py, where they started)."""

from tests.e2e.test_browser import browser, open_page  # noqa: F401 - re-exported as fixtures
