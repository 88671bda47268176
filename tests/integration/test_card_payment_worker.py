"""A card payment that succeeded at Stripe while our server never heard back is reconciled by
the webhook, processed by a real Celery worker: one payment on the ledger, applied to the
invoice, and one receipt email, although the success arrives three times."""

from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from django.db import connection
from django.test import Client as HttpClient
from django_tenants.utils import schema_context

from shared_apps.payments.models import StripeAccount, WebhookEvent
from shared_apps.plans.models import Plan
from tenant_apps.accounts.models import Role, User
from tenant_apps.billing.models import Invoice, Payment
from tenant_apps.clients.models import Client
from tenant_apps.mail.models import EmailDelivery
from tenant_apps.payments import charging
from tenant_apps.payments.models import PaymentAttempt
from tenants.models import Practice
from tests.billing.conftest import issue
from tests.payments.conftest import SECRET_KEY, WEBHOOK_SECRET, deliver, event_payload, sign
from tests.payments.stripe_fake import StripeStack
from tests.payments.test_paying import browser_pays
from tests.personas import Persona
from tests.practices import drop_practice, provision_test_practice
from tests.worker import Worker, wait_until

pytestmark = pytest.mark.worker

CLIENT = Persona("bea", "bea@client.test", "Bea Client", Role.CLIENT)
EVENT_IDS = ("evt_birch_paid_1", "evt_birch_paid_2", "evt_birch_paid_3")


@pytest.fixture(scope="module")
def paid_while_we_were_down(
    stripe_worker: Worker, stripe_stack: StripeStack, django_db_blocker: Any
) -> Iterator[tuple[Practice, str]]:
    """Bea starts paying her invoice with a new card and Stripe charges it, but her browser
    never posts back; then the success event is delivered three times, each delivery
    committed as a real request's would be."""
    from django.conf import settings

    fake = stripe_stack.fake
    fake.reset()
    saved = (settings.STRIPE_API_BASE, settings.STRIPE_SECRET_KEY, settings.STRIPE_WEBHOOK_SECRET)
    settings.STRIPE_API_BASE = fake.url
    settings.STRIPE_SECRET_KEY = SECRET_KEY
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
    with django_db_blocker.unblock():
        practice = provision_test_practice(
            "Birch Therapy", "birch-pay", Plan.STARTER, "America/Denver", (CLIENT,)
        )
        try:
            account = fake.create_account({"type": ["standard"]})
            fake.enable_charges(account["id"])
            StripeAccount.objects.create(
                practice=practice, account_id=account["id"], charges_enabled=True
            )
            with schema_context(practice.schema_name):
                bea = User.objects.get(email=CLIENT.email)
                record = Client.objects.create(
                    legal_first_name="Bea", legal_last_name="Client", email=bea.email, user=bea
                )
                issue(record, fee=12000, day=date(2026, 11, 4))
                attempt = charging.start_payment(
                    record, actor=bea, scope=PaymentAttempt.Scope.BALANCE
                )
                intent_id = str(attempt.payment_intent_id)
                browser_pays(charging.client_secret_for(attempt), account["id"])
            platform = HttpClient(HTTP_HOST="localhost")
            for event_id in EVENT_IDS:
                payload = event_payload(
                    account["id"],
                    event_type="payment_intent.succeeded",
                    event_id=event_id,
                    data_object={"id": intent_id, "object": "payment_intent"},
                )
                assert deliver(platform, payload, sign(payload)).content == b"queued"
            yield practice, intent_id
        finally:
            (
                settings.STRIPE_API_BASE,
                settings.STRIPE_SECRET_KEY,
                settings.STRIPE_WEBHOOK_SECRET,
            ) = saved
            connection.set_schema_to_public()
            WebhookEvent.objects.filter(event_id__in=EVENT_IDS).delete()
            drop_practice(practice)


def test_the_worker_records_a_payment_delivered_three_times_once(
    db: None, stripe_worker: Worker, paid_while_we_were_down: Any
):
    practice, intent_id = paid_while_we_were_down

    wait_until(
        lambda: (
            WebhookEvent.objects.filter(event_id__in=EVENT_IDS, processed_at__isnull=False).count()
            == len(EVENT_IDS)
        ),
        what="the worker to process the three events",
    )
    receipts = wait_until(
        lambda: [m for m in stripe_worker.emails() if "payment" in str(m["Subject"])],
        what="the receipt email",
    )

    with schema_context(practice.schema_name):
        (payment,) = Payment.objects.all()
        (invoice,) = Invoice.objects.all()
        attempt = PaymentAttempt.objects.get()
        deliveries = EmailDelivery.objects.filter(kind="payment_received").count()
    assert deliveries == 1
    assert (payment.amount, payment.stripe_payment_intent_id) == (12000, intent_id)
    assert invoice.status == "paid"
    assert attempt.status == "succeeded"
    (email,) = receipts
    assert email["To"] == CLIENT.email
    assert "payment was received" in email["Subject"]
    assert "120" not in email.get_body(preferencelist=("plain",)).get_content()
