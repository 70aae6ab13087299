"""Fixtures for the browser tests: Debian's headless Chromium driven by Playwright.

Playwright's sync API keeps an event loop running in the test thread, so Django's
"no ORM calls from async code" guard would refuse the test's own queries (creating a
user, reading the outbox's data). The guard is for real async views; here it's a
false positive, hence DJANGO_ALLOW_ASYNC_UNSAFE.
"""

import os
from pathlib import Path

import a11y
import pytest

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
]


@pytest.fixture(scope="session")
def browser():
    """One headless Chromium for the session; each test opens its own contexts."""
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is not installed")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def pytest_terminal_summary(terminalreporter):
    """How many page states axe-core checked, and the time it took."""
    if a11y.totals.checked or a11y.totals.same:
        terminalreporter.write_line(a11y.summary())


@pytest.fixture(scope="session", autouse=True)
def a11y_checks():
    """Page and locator actions check the page's state with axe-core first (a11y.py)."""
    originals = a11y.install()
    yield
    a11y.uninstall(originals)


@pytest.fixture
def fresh_cache(transactional_db):
    """Empty the database cache: log-in rate limits and used TOTP codes.

    Unlike the tables of the models it survives the flush after a transactional test,
    and the live server sees every browser as the same IP address.
    """
    from django.core.cache import cache

    cache.clear()


@pytest.fixture
def new_page(browser, live_server, fresh_cache):
    """``new_page()`` -> a page in a fresh browser context (its own cookies).

    The test fails if a page throws a JavaScript error or the server answers 5xx, or a
    page asset (script, style sheet) cannot be loaded, or if axe-core finds a serious or
    critical accessibility violation in any state a page went through (tests/e2e/a11y.py:
    each state is checked before the test acts on it, and at the end).
    """
    contexts, problems = [], []
    a11y_log = a11y.A11yLog()

    def on_response(response):
        asset = response.request.resource_type in {"script", "stylesheet"}
        if response.status >= 500 or (asset and response.status >= 400):
            problems.append(f"{response.status} {response.request.method} {response.url}")

    def open_page():
        context = browser.new_context(base_url=live_server.url, locale="en-GB")
        context.set_default_timeout(10_000)
        contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda error: problems.append(f"JavaScript error: {error}"))
        page.on("response", on_response)
        a11y.watch(page, a11y_log)
        return page

    yield open_page
    for context in contexts:
        for page in context.pages:
            a11y.check(page, a11y_log)
            a11y.unwatch(page)
        context.close()
    a11y.add_to_totals(a11y_log)
    assert not problems, problems
    if a11y_log.failures:
        pytest.fail("axe-core found serious or critical accessibility violations:\n"
                    + "\n".join(a11y_log.failures), pytrace=False)
