"""Browser tests: Debian's Chromium driven by Playwright against pytest-django's live server.

Playwright's sync API runs an asyncio loop in the test's thread, which makes Django refuse synchronous
database calls there; DJANGO_ALLOW_ASYNC_UNSAFE lifts that check for these tests only (the live server
answers requests in its own thread). Every test leaves a screenshot in test-output/screenshots/.
"""

import os
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.core.cache import cache

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
SCREENSHOTS = Path(settings.BASE_DIR) / "test-output" / "screenshots"


def screenshot(page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / (re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("_") + ".png")
    page.screenshot(path=str(path), full_page=True)
    return path


@pytest.fixture(scope="module")
def browser():
    """Chromium for one test module. Not for the session: while Playwright runs, its asyncio loop runs in this
    thread, and Django then keeps connections in another storage than the one a forked process finds (asgiref
    picks a context-variable store when a loop runs) — so tests after the browser tests, forking benchmark
    clients, saw an old connection to the test database in the child instead of their own."""
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def demo(transactional_db):
    """The demo organisations and users of ``seed_demo``, in a database the live server sees."""
    from guarantees.management.commands.seed_demo import seed_demo

    cache.clear()  # allauth's rate limits and used TOTP codes live in the (in-process) cache
    seed_demo()
    yield
    cache.clear()


@pytest.fixture
def page(browser, live_server, demo, request):
    """A fresh French-speaking browser tab on the live server; screenshotted as the test ends."""
    context = browser.new_context(
        base_url=live_server.url, locale="fr-FR", viewport={"width": 1280, "height": 860}
    )
    tab = context.new_page()
    tab.set_default_timeout(15_000)
    yield tab
    try:
        screenshot(tab, request.node.name)
    finally:
        context.close()
