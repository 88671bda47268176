"""Browser tests: headless Debian Chromium driven by Playwright against a live server that
serves committed practices.

A live server's thread has its own database connection, so it sees only committed rows: a
test provisions its practice with `tests.practices.provision_test_practice` (committed) and
drops it at the end, never through pytest-django's `transaction=True`/`live_server`, whose
flush would truncate the shared public tables.

Fixtures:
- `live_server_url(slug)`: the base URL of a practice on the running server;
- `browser`: one Chromium per module;
- `phone_page` / `desktop_page`: a fresh context and page each (390x844 with touch, or 1280x800);
- `smtp_inbox`: a real SMTP server (aiosmtpd) that Django's SMTP backend sends to;
- `tour`: screenshots of each step and axe-core (node_modules/axe-core) on every page checked.
"""

import os
import re
import socket
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email import policy as email_policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.contrib.staticfiles.handlers import StaticFilesHandler
from django.db import connections
from django.test.testcases import LiveServerThread

from tests.browser.stripe_js import StripeJsStandIn
from tests.payments import conftest as payments_fixtures
from tests.payments.stripe_fake import StripeStack

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


# --- Shared by the journey: a real SMTP server, axe-core, and the tour's screenshots. ---

DESKTOP = {"width": 1280, "height": 800}
AXE_SCRIPT = Path(settings.BASE_DIR) / "node_modules" / "axe-core" / "axe.min.js"
# What makes the journey fail; "moderate" and "minor" findings are not gated.
AXE_BLOCKING_IMPACTS = ("serious", "critical")


@dataclass
class SmtpInbox:
    """Messages received by a real SMTP server on 127.0.0.1, oldest first."""

    port: int
    messages: list[EmailMessage] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = BytesParser(policy=email_policy.default).parsebytes(envelope.content)
        self.messages.append(message)  # type: ignore[arg-type]
        return "250 Message accepted for delivery"

    def wait_for(self, to: str, *, after: int = 0, timeout: float = 20) -> EmailMessage:
        """The first message to `to` among those received after the `after`-th."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for message in self.messages[after:]:
                if to in str(message["To"]):
                    return message
            time.sleep(0.05)
        raise AssertionError(f"no email to {to} arrived; received: {self.subjects()}")

    def subjects(self) -> list[str]:
        return [f"{m['To']}: {m['Subject']}" for m in self.messages]


def email_text(message: EmailMessage) -> str:
    body = message.get_body(preferencelist=("plain",))
    assert body is not None, "the email has no plain-text part"
    return str(body.get_content())


def link_in(message: EmailMessage) -> str:
    """The one portal link an email carries."""
    links = re.findall(r"https?://\S+", email_text(message))
    assert len(links) == 1, links
    return links[0]


@pytest.fixture
def smtp_inbox(settings) -> Iterator[SmtpInbox]:
    """An aiosmtpd server on a free port, with Django's SMTP backend pointed at it."""
    from aiosmtpd.controller import Controller

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    inbox = SmtpInbox(port)
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": port, "use_tls": False, "use_ssl": False},
        }
    }
    try:
        yield inbox
    finally:
        controller.stop()


def axe_violations(page: Any) -> list[str]:
    """Runs axe-core on the page as it is now; one line per serious or critical violation."""
    if not AXE_SCRIPT.exists():
        raise AssertionError(
            f"{AXE_SCRIPT} is missing: run `npm ci --ignore-scripts` (bin/test does)"
        )
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        # Evaluated through the DevTools protocol, so no Content-Security-Policy applies.
        page.evaluate(AXE_SCRIPT.read_text() + "\n;0")
    results = page.evaluate(
        "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
        ".map(v => ({id: v.id, impact: v.impact, help: v.help,"
        " targets: v.nodes.map(n => n.target.join(' '))}))"
    )
    return [
        f"{v['impact']} {v['id']} ({v['help']}) at {', '.join(v['targets'][:5])}"
        for v in results
        if v["impact"] in AXE_BLOCKING_IMPACTS
    ]


class Tour:
    """Screenshots of each step, and axe-core on every page at desktop and phone sizes.

    Screenshots go to `directory`; `write_index` lists them with their captions in a
    README.md there. Violations are collected so one run reports all of them."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.steps: list[tuple[str, str]] = []
        self.violations: list[str] = []
        self.checked: set[tuple[str, str]] = set()

    def check(self, page: Any, where: str) -> None:
        """axe-core at the page's own size, then at the other one (desktop or phone)."""
        own = page.viewport_size
        other = PHONE if own["width"] > PHONE["width"] else DESKTOP
        for size in (own, other):
            if size is not own:
                page.set_viewport_size(size)
            label = f"{where} [{size['width']}x{size['height']}] {_path_of(page.url)}"
            self.violations += [f"{label}: {line}" for line in axe_violations(page)]
        page.set_viewport_size(own)

    def step(self, page: Any, name: str, caption: str) -> None:
        """A screenshot of the viewport (not the full page), and the accessibility check."""
        page.wait_for_load_state()
        number = len(self.steps) + 1
        filename = f"{number:02d}-{name}.png"
        page.screenshot(path=str(self.directory / filename))
        self.steps.append((filename, caption))
        self.check(page, f"step {number} {name}")

    def write_index(self, title: str, introduction: str) -> None:
        lines = [f"# {title}", "", introduction, ""]
        for number, (filename, caption) in enumerate(self.steps, start=1):
            lines += [f"{number}. {caption}", "", f"   ![{caption}]({filename})", ""]
        (self.directory / "README.md").write_text("\n".join(lines))

    def assert_accessible(self) -> None:
        assert not self.violations, "axe-core found serious or critical violations:\n" + (
            "\n".join(self.violations)
        )


def _path_of(url: str) -> str:
    return urlsplit(url).path


@pytest.fixture
def tour(tmp_path: Path) -> Tour:
    """SWASTH_TOUR_DIR=docs/tour writes the screenshots (and their index) into the repository;
    by default they go to the test's temporary directory."""
    target = os.environ.get("SWASTH_TOUR_DIR")
    directory = Path(target) if target else tmp_path / "tour"
    if not directory.is_absolute():
        directory = Path(settings.BASE_DIR) / directory
    directory.mkdir(parents=True, exist_ok=True)
    return Tour(directory)


# Card payments in the browser: localstripe behind the recording proxy, and the Stripe.js
# stand-in that sends card details from the page to it (tests/browser/stripe_js.py).
STRIPE_SECRET_KEY = "sk_test_swasth_browser"
STRIPE_PUBLISHABLE_KEY = "pk_test_swasth_browser"


# The session-wide localstripe and recording proxy of the payments tests.
stripe_stack = payments_fixtures.stripe_stack


@pytest.fixture(scope="module")
def standin(stripe_stack: StripeStack) -> Iterator[StripeJsStandIn]:
    server = StripeJsStandIn(stripe_stack.fake.url, STRIPE_SECRET_KEY)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def stripe_in_browser(
    settings: Any, stripe_stack: StripeStack, standin: StripeJsStandIn
) -> StripeStack:
    """Point the server at the fake Stripe and its pages at the Stripe.js stand-in."""
    settings.STRIPE_API_BASE = stripe_stack.fake.url
    settings.STRIPE_SECRET_KEY = STRIPE_SECRET_KEY
    settings.STRIPE_PUBLISHABLE_KEY = STRIPE_PUBLISHABLE_KEY
    settings.STRIPE_JS_URL = standin.script_url
    return stripe_stack
