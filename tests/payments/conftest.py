"""Stripe for the payments tests: localstripe behind the recording, Connect-faking proxy."""

import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Iterator
from typing import Any

import pytest
from django.test import Client
from django_tenants.utils import schema_context

from shared_apps.payments.models import StripeAccount
from tenants.models import Practice
from tests.clients.conftest import (  # noqa: F401  (fixtures shared with the clients tests)
    carol_record,
    dave_record,
    ivan_record,
)
from tests.conftest import signed_in
from tests.payments.stripe_fake import FakeStripe, StripeStack

SECRET_KEY = "sk_test_swasth_platform_fixture"
WEBHOOK_SECRET = "whsec_test_swasth_fixture"
WEBHOOK_URL = "/stripe/webhooks/"


@pytest.fixture(scope="session")
def stripe_stack() -> Iterator[StripeStack]:
    stack = StripeStack()
    try:
        yield stack
    finally:
        stack.stop()


@pytest.fixture
def fake_stripe(stripe_stack: StripeStack, settings: Any) -> FakeStripe:
    settings.STRIPE_API_BASE = stripe_stack.fake.url
    settings.STRIPE_SECRET_KEY = SECRET_KEY
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
    stripe_stack.fake.reset()
    return stripe_stack.fake


@pytest.fixture
def after_commit(django_capture_on_commit_callbacks: Any) -> Any:
    """Run what services schedule with `transaction.on_commit` (tests never commit)."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture
def dave_browser(dave: Any) -> Client:
    return signed_in("sunrise.localhost", dave, url="/sign-in/")


@pytest.fixture
def ivan_browser(ivan: Any) -> Client:
    return signed_in("harbor.localhost", ivan, url="/sign-in/")


def connect(fake: FakeStripe, practice: Practice, *, charges: bool = False) -> StripeAccount:
    """Give `practice` a connected account in the fake and in our table, as onboarding would."""
    account = fake.create_account({"type": ["standard"]})
    if charges:
        fake.enable_charges(account["id"])
    with schema_context(practice.schema_name):
        return StripeAccount.objects.create(
            practice=practice,
            account_id=account["id"],
            charges_enabled=charges,
            payouts_enabled=charges,
            details_submitted=charges,
            requirements_due=[] if charges else list(account["requirements"]["currently_due"]),
        )


def event_payload(
    account_id: str,
    *,
    event_type: str = "account.updated",
    event_id: str | None = None,
    data_object: dict[str, Any] | None = None,
) -> bytes:
    event = {
        "id": event_id or f"evt_{secrets.token_hex(8)}",
        "object": "event",
        "type": event_type,
        "account": account_id,
        "api_version": "2024-06-20",
        "created": int(time.time()),
        "livemode": False,
        "data": {
            "object": data_object
            or {"id": account_id, "object": "account", "charges_enabled": True}
        },
    }
    return json.dumps(event).encode()


def sign(payload: bytes, *, secret: str = WEBHOOK_SECRET) -> str:
    """A `Stripe-Signature` header as Stripe computes it: HMAC-SHA256 of "<t>.<body>"."""
    timestamp = int(time.time())
    signed = f"{timestamp}.".encode() + payload
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def deliver(client: Client, payload: bytes, signature: str | None) -> Any:
    headers = {"HTTP_STRIPE_SIGNATURE": signature} if signature is not None else {}
    return client.post(WEBHOOK_URL, data=payload, content_type="application/json", **headers)
