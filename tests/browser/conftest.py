"""Browser tests: headless Debian Chromium driven by Playwright against a live server that
serves committed practices.

A live server's thread has its own database connection, so it sees only committed rows: a
test provisions its practice with `tests.practices.provision_test_practice` (committed) and
drops it at the end, never through pytest-django's `transaction=True`/`live_server`, whose
flush would truncate the shared public tables.

Fixtures:
- `live_server_url(slug)`: the base URL of a practice on the running server;
- `browser`: one Chromium per module;
- `phone_page` / `desktop_page`: a fresh context and page each (390x844 with touch, or 1280x800).
"""

import os
from collections.abc import Callable, Iterator

import pytest
from django.conf import settings
from django.contrib.staticfiles.handlers import StaticFilesHandler
from django.db import connections
from django.test.testcases import LiveServerThread

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def live_server_port(django_db_setup: None, django_db_blocker) -> Iterator[int]:
    """A threaded server on 127.0.0.1 with a free port; emails link to that port."""
    # Playwright's sync API runs an event loop in this thread; Django refuses ORM calls
    # under a running loop unless told that this is deliberate.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with django_db_blocker.unblock():
        # Static files from the apps' folders (finders), as in development: a fresh clone has
        # no collected STATIC_ROOT.
        server = LiveServerThread("127.0.0.1", StaticFilesHandler, port=0)
        server.daemon = True
        server.start()
        server.is_ready.wait()
        if server.error:
            raise server.error
        saved_port = settings.PORTAL_URL_PORT
        settings.PORTAL_URL_PORT = server.port
        try:
            yield server.port
        finally:
            settings.PORTAL_URL_PORT = saved_port
            server.terminate()


@pytest.fixture(scope="module")
def live_server_url(live_server_port: int) -> Callable[[str], str]:
    def url(slug: str) -> str:
        return f"http://{slug}.localhost:{live_server_port}"

    return url


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield chromium
        finally:
            chromium.close()
            # Django's connections are local to the asyncio context too, and Playwright runs
            # one: close what tests opened inside it, or the test database cannot be dropped.
            connections.close_all()


@pytest.fixture
def phone_page(browser) -> Iterator[object]:
    context = browser.new_context(viewport=PHONE, has_touch=True, is_mobile=True)
    try:
        yield context.new_page()
    finally:
        context.close()


@pytest.fixture
def desktop_page(browser) -> Iterator[object]:
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    try:
        yield context.new_page()
    finally:
        context.close()
