"""Payments and partial refunds in any order keep the ledger exact (property-based, with every
refund made through Stripe on the practice's connected account)."""

import uuid
from datetime import UTC, datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from django_tenants.utils import schema_context
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tenant_apps.billing import selectors, services
from tenant_apps.billing.models import LedgerEntry, Payment
from tenant_apps.clients.models import Client
from tenant_apps.payments import refunds
from tests.billing.conftest import issue
from tests.billing.test_ledger import _check_ledger
from tests.payments.conftest import connect
from tests.payments.test_refunds import stripe_payment

PAID_AT = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)

# ("invoice", fee) | ("pay", amount, invoice index, part to apply) | ("refund", payment index,
# amount) | ("void", invoice index)
operations = st.lists(
    st.one_of(
        st.tuples(st.just("invoice"), st.integers(1, 50_000)),
        st.tuples(
            st.just("pay"), st.integers(1, 60_000), st.integers(0, 5), st.integers(0, 60_000)
        ),
        st.tuples(st.just("refund"), st.integers(0, 5), st.integers(1, 70_000)),
        st.tuples(st.just("void"), st.integers(0, 5)),
    ),
    min_size=1,
    max_size=10,
)


def _run(client, account_id, ops):
    invoices: list = []
    payments: list[Payment] = []
    expected = 0
    for op in ops:
        try:
            with transaction.atomic():
                if op[0] == "invoice":
                    invoices.append(issue(client, fee=op[1]))
                    expected += op[1]
                elif op[0] == "pay":
                    applications = []
                    if invoices:
                        target = invoices[op[2] % len(invoices)]
                        target.refresh_from_db()
                        part = min(op[3], op[1], selectors.invoice_balance_due(target))
                        if target.is_open and part > 0:
                            applications = [(target, part)]
                    payments.append(
                        services.record_payment(
                            client,
                            actor=None,
                            method=Payment.Method.CARD,
                            amount=op[1],
                            received_at=PAID_AT,
                            applications=applications,
                            stripe_payment_intent_id=stripe_payment(account_id, op[1]),
                        )
                    )
                    expected -= op[1]
                elif op[0] == "refund" and payments:
                    payment = payments[op[1] % len(payments)]
                    refund = refunds.refund_payment(
                        payment,
                        actor=None,
                        amount=op[2],
                        reason="Property",
                        request_key=uuid.uuid4().hex,
                    )
                    assert refund.status == "succeeded"
                    expected += op[2]
                elif op[0] == "void" and invoices:
                    target = invoices[op[1] % len(invoices)]
                    remaining = sum(
                        LedgerEntry.objects.filter(invoice=target).values_list("amount", flat=True)
                    )
                    services.void_invoice(target, actor=None, reason="Entered in error")
                    expected -= remaining
        except ValidationError:
            pass  # a refused operation (too large a refund, void twice) changes nothing
    return expected, payments


def test_any_sequence_of_payments_and_partial_refunds_keeps_the_ledger_exact(sunrise, fake_stripe):
    account_id = connect(fake_stripe, sunrise, charges=True).account_id

    @settings(
        max_examples=15,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(ops=operations)
    # Always tried: a refund larger than the payment's credit reopens the invoice it paid.
    @example(ops=[("invoice", 10_000), ("pay", 12_000, 0, 10_000), ("refund", 0, 5_000)])
    def check(ops):
        with schema_context(sunrise.schema_name), transaction.atomic():
            client = Client.objects.create(legal_first_name="Prop", legal_last_name="Refund")
            expected, payments = _run(client, account_id, ops)
            _check_ledger(client, expected)
            assert selectors.unapplied_credit(client) >= 0
            for payment in payments:
                refundable = selectors.refundable_amount(payment)
                refunded = selectors.payment_refunded(payment)
                assert 0 <= refundable <= payment.amount
                assert refundable == payment.amount - refunded
                assert selectors.payment_unapplied(payment) >= 0
            transaction.set_rollback(True)

    check()


@pytest.mark.parametrize("amount", [0, -100])
def test_a_refund_must_be_more_than_zero(sunrise, fake_stripe, carol_record, amount):
    account_id = connect(fake_stripe, sunrise, charges=True).account_id
    with schema_context(sunrise.schema_name):
        payment = services.record_payment(
            carol_record,
            actor=None,
            method="card",
            amount=1000,
            received_at=PAID_AT,
            stripe_payment_intent_id=stripe_payment(account_id, 1000),
        )
        with pytest.raises(ValidationError):
            refunds.refund_payment(payment, actor=None, amount=amount, reason="x", request_key="k")
    assert fake_stripe.calls_to("/v1/refunds") == []
