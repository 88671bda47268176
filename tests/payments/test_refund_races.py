"""Refunds racing on separate database connections (committed rows, real row locks)."""

import threading
from collections import Counter
from datetime import UTC, datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django_tenants.utils import schema_context

from tenant_apps.billing import selectors, services
from tenant_apps.billing.models import LedgerEntry, Payment, Refund
from tenant_apps.clients.models import Client
from tenant_apps.payments import refunds
from tests.payments.conftest import connect
from tests.payments.test_refunds import stripe_payment

PAID_AT = datetime(2026, 11, 10, 15, 0, tzinfo=UTC)
CONTENDERS = 4


@pytest.fixture
def committed_payment(committed_practice, fake_stripe, django_db_blocker):
    """A committed $100 card payment in a throwaway practice with a connected account."""
    with django_db_blocker.unblock():
        account = connect(fake_stripe, committed_practice, charges=True)
        with schema_context(committed_practice.schema_name):
            client = Client.objects.create(legal_first_name="Race", legal_last_name="Refund")
            payment = services.record_payment(
                client,
                actor=None,
                method="card",
                amount=10_000,
                received_at=PAID_AT,
                stripe_payment_intent_id=stripe_payment(account.account_id, 10_000),
            )
    return committed_practice, payment


def test_the_idempotency_key_names_the_practice_schema_and_our_refund(sunrise, carol_record):
    # (Also makes pytest-django create the test database before the committed practice.)
    with schema_context(sunrise.schema_name):
        payment = services.record_payment(
            carol_record, actor=None, method="card", amount=100, received_at=PAID_AT,
            stripe_payment_intent_id="pi_key_test",
        )  # fmt: skip
        refund = Refund.objects.create(payment=payment, amount=50, currency="USD")
        assert refunds.idempotency_key(refund) == f"refund-{sunrise.schema_name}-{refund.pk}"


def _race(practice, payment: Payment, keys: list[str], amount: int, django_db_blocker):
    barrier = threading.Barrier(len(keys))
    outcomes: list[str] = []
    lock = threading.Lock()

    def contender(key: str) -> None:
        try:
            with schema_context(practice.schema_name):
                barrier.wait(timeout=30)
                try:
                    refund = refunds.refund_payment(
                        payment, actor=None, amount=amount, reason="Race", request_key=key
                    )
                    outcome = f"refund:{refund.pk}"
                except ValidationError as error:
                    outcome = error.messages[0]
            with lock:
                outcomes.append(outcome)
        finally:
            connection.close()

    with django_db_blocker.unblock():
        threads = [threading.Thread(target=contender, args=(key,)) for key in keys]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    return Counter(outcomes)


def test_the_same_form_posted_at_once_from_four_connections_refunds_once(
    committed_payment, fake_stripe, django_db_blocker
):
    practice, payment = committed_payment

    outcomes = _race(practice, payment, ["same-form"] * CONTENDERS, 4_000, django_db_blocker)

    assert sum(outcomes.values()) == CONTENDERS and len(outcomes) == 1
    assert len(fake_stripe.calls_to("/v1/refunds")) == 1
    with django_db_blocker.unblock(), schema_context(practice.schema_name):
        assert Refund.objects.get().status == Refund.Status.SUCCEEDED
        assert list(
            LedgerEntry.objects.filter(kind=LedgerEntry.Kind.REFUND).values_list(
                "amount", flat=True
            )
        ) == [4_000]


def test_two_forms_cannot_both_take_the_rest_of_a_payment(
    committed_payment, fake_stripe, django_db_blocker
):
    practice, payment = committed_payment

    outcomes = _race(practice, payment, [f"form-{n}" for n in range(CONTENDERS)], 6_000,
                     django_db_blocker)  # fmt: skip

    assert sum(count for outcome, count in outcomes.items() if outcome.startswith("refund:")) == 1
    assert outcomes["That is more than is left to refund of this payment."] == CONTENDERS - 1
    assert len(fake_stripe.calls_to("/v1/refunds")) == 1
    with django_db_blocker.unblock(), schema_context(practice.schema_name):
        assert selectors.refundable_amount(Payment.objects.get(pk=payment.pk)) == 4_000
        assert LedgerEntry.objects.filter(kind=LedgerEntry.Kind.REFUND).count() == 1
