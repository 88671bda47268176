"""Stripe for the tests: localstripe behind a small recording proxy that also fakes Connect.

localstripe (a stateful fake Stripe server from PyPI) serves customers, SetupIntents,
PaymentMethods, PaymentIntents and refunds, but it ignores the `Stripe-Account` header and has
no Connect accounts API. So the proxy in front of it:

- records the method, path and `Stripe-Account` header of every request, so tests can assert
  that each call made for a practice carried that practice's connected account id and never
  went out as the platform itself;
- answers the Connect management endpoints itself from a dict: `POST /v1/accounts`,
  `GET /v1/accounts/<id>` and `POST /v1/account_links`. Tests change an account's status with
  `set_account(...)`, as Stripe would when the practice finishes onboarding;
- answers `GET /v1/disputes/<id>` from a dict as well (localstripe has no disputes): tests
  open one with `create_dispute(...)`, as a client's bank would;
- forwards everything else to localstripe.

Both listen on 127.0.0.1 only. localstripe's own command binds every interface and saves its
store to a shared file in /tmp on each write, so it is started from `_LAUNCH` instead.
"""

import json
import secrets
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

_LAUNCH = """
import sys
from aiohttp import web
from localstripe import resources
from localstripe.server import app
resources.store.dump_to_disk = lambda: None
web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), print=None, access_log=None)
"""

STARTUP_TIMEOUT = 20.0
POLL_INTERVAL = 0.05

INITIAL_REQUIREMENTS = ["external_account", "tos_acceptance.date"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class Call:
    method: str
    path: str
    stripe_account: str | None


@dataclass
class FakeStripe:
    """What the tests see: the proxy's URL, its record of calls and the fake accounts."""

    url: str
    calls: list[Call] = field(default_factory=list)
    accounts: dict[str, dict[str, Any]] = field(default_factory=dict)
    disputes: dict[str, dict[str, Any]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def reset(self) -> None:
        with self.lock:
            self.calls.clear()
            self.accounts.clear()
            self.disputes.clear()

    def create_dispute(
        self, *, charge: str, payment_intent: str, amount: int, currency: str = "usd"
    ) -> dict[str, Any]:
        dispute = {
            "id": f"du_{secrets.token_hex(8)}",
            "object": "dispute",
            "charge": charge,
            "payment_intent": payment_intent,
            "amount": amount,
            "currency": currency,
            "status": "needs_response",
            "reason": "fraudulent",
            "created": int(time.time()),
        }
        with self.lock:
            self.disputes[dispute["id"]] = dispute
        return dispute

    def calls_to(self, prefix: str) -> list[Call]:
        with self.lock:
            return [call for call in self.calls if call.path.startswith(prefix)]

    def set_account(self, account_id: str, **changes: Any) -> None:
        with self.lock:
            self.accounts[account_id].update(changes)

    def enable_charges(self, account_id: str) -> None:
        self.set_account(
            account_id,
            charges_enabled=True,
            payouts_enabled=True,
            details_submitted=True,
            requirements={"currently_due": [], "past_due": [], "disabled_reason": None},
        )

    # Connect endpoints, answered by the proxy itself.

    def create_account(self, form: dict[str, list[str]]) -> dict[str, Any]:
        account = {
            "id": f"acct_{secrets.token_hex(8)}",
            "object": "account",
            "type": form.get("type", ["standard"])[0],
            "charges_enabled": False,
            "payouts_enabled": False,
            "details_submitted": False,
            "requirements": {
                "currently_due": list(INITIAL_REQUIREMENTS),
                "past_due": [],
                "disabled_reason": "requirements.past_due",
            },
            "metadata": {
                key[len("metadata[") : -1]: values[0]
                for key, values in form.items()
                if key.startswith("metadata[")
            },
        }
        with self.lock:
            self.accounts[account["id"]] = account
        return account

    def account_link(self, form: dict[str, list[str]]) -> dict[str, Any] | None:
        account_id = form.get("account", [""])[0]
        with self.lock:
            if account_id not in self.accounts:
                return None
        return {
            "object": "account_link",
            "url": f"https://connect.stripe.test/setup/{account_id}/{secrets.token_hex(4)}",
            "created": int(time.time()),
            "expires_at": int(time.time()) + 300,
        }


def _handler(fake: FakeStripe, upstream: str) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _reply(self, status: int, body: bytes, content_type: str = "application/json") -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _json(self, status: int, payload: dict[str, Any]) -> None:
            self._reply(status, json.dumps(payload).encode())

        def _not_found(self) -> None:
            error = {"type": "invalid_request_error", "message": "No such account"}
            self._json(404, {"error": error})

        def _handle(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            path = self.path.split("?", 1)[0]
            with fake.lock:
                fake.calls.append(Call(self.command, path, self.headers.get("Stripe-Account")))

            form = parse_qs(body.decode(), keep_blank_values=True)
            if self.command == "POST" and path == "/v1/accounts":
                self._json(200, fake.create_account(form))
                return
            if self.command == "POST" and path == "/v1/account_links":
                link = fake.account_link(form)
                self._json(200, link) if link else self._not_found()
                return
            if self.command == "GET" and path.startswith("/v1/accounts/"):
                with fake.lock:
                    account = fake.accounts.get(path.rsplit("/", 1)[1])
                    snapshot = json.loads(json.dumps(account)) if account else None
                self._json(200, snapshot) if snapshot else self._not_found()
                return
            if self.command == "GET" and path.startswith("/v1/disputes/"):
                with fake.lock:
                    dispute = fake.disputes.get(path.rsplit("/", 1)[1])
                    snapshot = json.loads(json.dumps(dispute)) if dispute else None
                self._json(200, snapshot) if snapshot else self._not_found()
                return
            self._forward(body)

        def _forward(self, body: bytes) -> None:
            headers = {
                name: value
                for name, value in self.headers.items()
                if name.lower() not in {"host", "content-length", "connection"}
            }
            request = urllib.request.Request(
                upstream + self.path, data=body or None, headers=headers, method=self.command
            )
            try:
                with urllib.request.urlopen(request, timeout=30) as response:
                    self._reply(response.status, response.read())
            except urllib.error.HTTPError as error:
                self._reply(error.code, error.read())

        do_GET = do_POST = do_DELETE = _handle

    return Handler


class StripeStack:
    """localstripe in a subprocess and the proxy in a thread, both on loopback."""

    def __init__(self) -> None:
        self.localstripe_port = free_port()
        self.process = subprocess.Popen(
            [sys.executable, "-c", _LAUNCH, str(self.localstripe_port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        upstream = f"http://127.0.0.1:{self.localstripe_port}"
        self._wait_until_up(upstream)
        self.fake = FakeStripe(url="")
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self.fake, upstream))
        self.fake.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def _wait_until_up(self, upstream: str) -> None:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while True:
            if self.process.poll() is not None:
                raise RuntimeError("localstripe exited during startup")
            try:
                with socket.create_connection(("127.0.0.1", self.localstripe_port), timeout=1):
                    return
            except OSError:
                if time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(f"localstripe did not listen at {upstream}") from None
                time.sleep(POLL_INTERVAL)

    def stop(self) -> None:
        if hasattr(self, "server"):
            self.server.shutdown()
            self.server.server_close()
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
