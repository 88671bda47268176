"""A stand-in for Stripe.js on loopback, for browser tests: it serves `stripe_standin.js` and
answers its calls by passing them to the fake Stripe API (localstripe behind the recording
proxy of tests/payments/stripe_fake.py), adding the CORS headers a browser needs.

Real Stripe accepts the publishable key plus an intent's client secret for confirming that
intent with card details. localstripe accepts that for SetupIntents only, and cannot confirm a
PaymentIntent with new card details at all, so for `POST /v1/payment_intents/<id>/confirm`
this server checks the client secret, then makes the equivalent calls with the secret key:
create the PaymentMethod, set it on the PaymentIntent, confirm (or, for an intent waiting for
3-D Secure, pass localstripe's authentication step). Every call keeps the browser's
`Stripe-Account` header, so the recording proxy sees which account each was made on.
"""

import json
import re
import threading
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode

SCRIPT = Path(__file__).with_name("stripe_standin.js").read_bytes()
_CONFIRM = re.compile(r"^/v1/payment_intents/(pi_\w+)/confirm$")


class StripeJsStandIn:
    def __init__(self, api_url: str, secret_key: str) -> None:
        self.api_url = api_url
        self.secret_key = secret_key
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def script_url(self) -> str:
        return f"{self.url}/v3/"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def call(
        self,
        method: str,
        path: str,
        form: dict[str, str] | None,
        *,
        account: str | None,
        secret: bool,
    ) -> tuple[int, bytes]:
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        if secret:
            headers["Authorization"] = f"Bearer {self.secret_key}"
        if account:
            headers["Stripe-Account"] = account
        body = urlencode(form).encode() if form is not None else None
        request = urllib.request.Request(
            self.api_url + path, data=body, headers=headers, method=method
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.read()

    def confirm_payment(
        self, intent_id: str, form: dict[str, str], account: str | None
    ) -> tuple[int, bytes]:
        status, body = self.call("GET", f"/v1/payment_intents/{intent_id}", None,
                                 account=account, secret=True)  # fmt: skip
        intent: dict[str, Any] = json.loads(body)
        if status != 200 or intent.get("client_secret") != form.get("client_secret"):
            return 401, json.dumps({"error": {"message": "Unauthorized"}}).encode()
        if intent.get("status") == "requires_action":
            query = urlencode({"client_secret": form["client_secret"], "success": "true",
                               "key": form.get("key", "")})  # fmt: skip
            return self.call("POST", f"/v1/payment_intents/{intent_id}/_authenticate?{query}",
                             {}, account=account, secret=False)  # fmt: skip
        card = {
            key[len("payment_method_data[") : -1].replace("][", "."): value
            for key, value in form.items()
            if key.startswith("payment_method_data[")
        }
        if card:
            method_form = {
                "type": card.get("type", "card"),
                "card[number]": card.get("card.number", ""),
                "card[exp_month]": card.get("card.exp_month", ""),
                "card[exp_year]": card.get("card.exp_year", ""),
                "card[cvc]": card.get("card.cvc", ""),
            }
            status, body = self.call("POST", "/v1/payment_methods", method_form,
                                     account=account, secret=True)  # fmt: skip
            if status != 200:
                return status, body
            method_id = json.loads(body)["id"]
            status, body = self.call("POST", f"/v1/payment_intents/{intent_id}",
                                     {"payment_method": method_id}, account=account,
                                     secret=True)  # fmt: skip
            if status != 200:
                return status, body
        return self.call("POST", f"/v1/payment_intents/{intent_id}/confirm", {},
                         account=account, secret=True)  # fmt: skip


def _handler(standin: StripeJsStandIn) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _reply(self, status: int, body: bytes, content_type: str = "application/json") -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Access-Control-Allow-Origin", self.headers.get("Origin") or "*")
            self.send_header("Access-Control-Allow-Headers", "Content-Type, Stripe-Account")
            self.send_header("Access-Control-Allow-Methods", "GET, POST, OPTIONS")
            self.end_headers()
            self.wfile.write(body)

        def do_OPTIONS(self) -> None:
            self._reply(204, b"")

        def do_GET(self) -> None:
            if self.path.split("?", 1)[0] == "/v3/":
                self._reply(200, SCRIPT, "application/javascript")
            else:
                self._reply(404, b'{"error": {"message": "Not found"}}')

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length).decode() if length else ""
            form = {key: values[0] for key, values in parse_qs(raw).items()}
            account = self.headers.get("Stripe-Account")
            path = self.path.split("?", 1)[0]
            if (match := _CONFIRM.match(path)) is not None:
                status, body = standin.confirm_payment(match.group(1), form, account)
            else:
                status, body = standin.call("POST", path, form, account=account, secret=False)
            self._reply(status, body)

    return Handler
