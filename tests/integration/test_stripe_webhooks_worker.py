"""Stripe webhooks cross processes: the platform endpoint stores and routes an event, and a
real Celery worker processes it in the practice's schema, reading the account back from
(fake) Stripe. The same event delivered three times is processed once."""

from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connection
from django.test import Client

from shared_apps.payments.models import StripeAccount, WebhookEvent
from shared_apps.plans.models import Plan
from tenants.models import Practice
from tests.payments.conftest import WEBHOOK_SECRET, deliver, event_payload, sign
from tests.payments.stripe_fake import StripeStack
from tests.practices import drop_practice, provision_test_practice
from tests.worker import Worker, wait_until

pytestmark = pytest.mark.worker


@pytest.fixture(scope="module")
def delivered_three_times(
    stripe_worker: Worker, stripe_stack: StripeStack, django_db_blocker: Any
) -> Iterator[tuple[Practice, str, list[bytes]]]:
    """Aspen connects an account, Stripe enables charges, and the account.updated event
    arrives three times, each delivery committed as a real request's would be."""
    from django.conf import settings

    fake = stripe_stack.fake
    fake.reset()
    saved = settings.STRIPE_WEBHOOK_SECRET
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
    with django_db_blocker.unblock():
        practice = provision_test_practice(
            "Aspen Therapy", "aspen-pay", Plan.STARTER, "America/Denver", ()
        )
        try:
            account = fake.create_account({"type": ["standard"]})
            StripeAccount.objects.create(practice=practice, account_id=account["id"])
            fake.enable_charges(account["id"])
            payload = event_payload(account["id"], event_id="evt_worker_once")
            platform = Client(HTTP_HOST="localhost")
            answers = [deliver(platform, payload, sign(payload)).content for _ in range(3)]
            yield practice, account["id"], answers
        finally:
            settings.STRIPE_WEBHOOK_SECRET = saved
            connection.set_schema_to_public()
            # Public rows outlive the practice (an event keeps its record when its practice
            # goes); remove them, or later tests would find a committed event.
            WebhookEvent.objects.filter(event_id="evt_worker_once").delete()
            drop_practice(practice)


def test_the_worker_processes_a_thrice_delivered_event_once(
    db: None, stripe_worker: Worker, stripe_stack: StripeStack, delivered_three_times: Any
):
    practice, account_id, answers = delivered_three_times

    event = wait_until(
        lambda: WebhookEvent.objects.filter(
            event_id="evt_worker_once", processed_at__isnull=False
        ).first(),
        what="the worker to process the event",
    )

    assert answers == [b"queued", b"duplicate", b"duplicate"]
    assert (event.status, event.practice_id) == (WebhookEvent.Status.PROCESSED, practice.pk)
    assert StripeAccount.objects.get(account_id=account_id).charges_enabled is True
    reads = stripe_stack.fake.calls_to(f"/v1/accounts/{account_id}")
    assert len(reads) == 1
    assert practice.schema_name in stripe_worker.log()
