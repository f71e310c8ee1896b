"""Browser tests: Chromium, driven by Playwright, against the live server and sandbox.

Debian's chromium is used as installed (`/usr/bin/chromium`); no browser is downloaded.
Set SAVE_SCREENSHOTS=1 to rewrite the screenshots in docs/screenshots/ (helpers.py).
"""

import os
from pathlib import Path

import pytest

from tests.sync import conftest as integration

# The integration fixtures: a live server hosting both emulators, and a synced firm.
systems = integration.systems
faults = integration.faults
lawyer = integration.lawyer
firm = integration.firm

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
VIEWPORT = {"width": 1280, "height": 800}
TIMEOUT_MS = 15_000


def pytest_configure(config):
    config.addinivalue_line("markers", "browser: drives Chromium through Playwright")


@pytest.fixture(scope="package")
def browser():
    """One Chromium for the package. Playwright's sync API keeps an event loop running
    in this thread, which Django's async-unsafe guard takes for async code: the guard is
    switched off while the browser lives, and back on for the tests after this package."""
    if not CHROMIUM.exists():
        pytest.skip(f"browser tests need Debian's chromium at {CHROMIUM}")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_api.sync_playwright() as playwright:
            chromium = playwright.chromium.launch(
                executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
            )
            sync_api.expect.set_options(timeout=TIMEOUT_MS)
            yield chromium
            chromium.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def new_page(browser, systems):
    """Open a page in a fresh browser context (its own cookies) on the live server."""
    contexts = []

    def open_page():
        context = browser.new_context(viewport=VIEWPORT, base_url=systems.url)
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        return context.new_page()

    yield open_page
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_page):
    return new_page()
