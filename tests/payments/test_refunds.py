"""Refunds of card payments from the workspace: Stripe on the practice's account, the ledger,
invoices, statements and the portal summary."""

import re
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django_tenants.utils import schema_context

from shared_apps.payments.stripe_api import connected_options, platform_client
from tenant_apps.billing import selectors, services, statements
from tenant_apps.billing.models import Invoice, LedgerEntry, Payment, Refund
from tenant_apps.payments import refunds
from tests.billing.conftest import issue
from tests.payments.conftest import connect

PAID_AT = datetime(2026, 11, 10, 15, 0, tzinfo=UTC)


@pytest.fixture
def sunrise_stripe(fake_stripe, sunrise):
    return connect(fake_stripe, sunrise, charges=True)


def stripe_payment(account_id: str, amount: int) -> str:
    """A succeeded PaymentIntent on `account_id`, as a client's card payment leaves it."""
    api = platform_client()
    options = connected_options(account_id)
    method = api.v1.payment_methods.create(
        params={
            "type": "card",
            "card": {"number": "4242424242424242", "exp_month": 12, "exp_year": 2031, "cvc": "123"},
        },
        options=options,
    )
    intent = api.v1.payment_intents.create(
        params={"amount": amount, "currency": "usd", "payment_method": method.id},
        options=options,
    )
    intent = api.v1.payment_intents.confirm(intent.id, options=options)
    assert intent.status == "succeeded"
    return str(intent.id)


def card_payment(practice, account_id, client, amount, *, applications=()):
    intent_id = stripe_payment(account_id, amount)
    with schema_context(practice.schema_name):
        return services.record_payment(
            client,
            actor=None,
            method="card",
            amount=amount,
            received_at=PAID_AT,
            applications=applications,
            stripe_payment_intent_id=intent_id,
        )


def refund_url(payment: Payment) -> str:
    return f"/practice/billing/payments/{payment.pk}/refund/"


def payment_url(payment: Payment) -> str:
    return f"/practice/billing/payments/{payment.pk}/"


def form_token(browser, payment) -> str:
    page = browser.get(refund_url(payment)).content.decode()
    match = re.search(r'name="token" value="([^"]+)"', page)
    assert match, "the refund form carries no token"
    return match.group(1)


def stripe_refunds(account_id: str, intent_id: str) -> list[int]:
    listing = platform_client().v1.refunds.list(
        params={"payment_intent": intent_id}, options=connected_options(account_id)
    )
    return sorted(refund.amount for refund in listing.data)


@pytest.fixture
def paid_invoice(sunrise, sunrise_stripe, carol_record):
    """Carol's $150 invoice, paid in full by card."""
    with schema_context(sunrise.schema_name):
        invoice = issue(carol_record, fee=15000)
    payment = card_payment(
        sunrise, sunrise_stripe.account_id, carol_record, 15000, applications=[(invoice, 15000)]
    )
    return invoice, payment


def test_staff_refund_part_of_a_card_payment_after_confirming(
    alice_browser, sunrise, sunrise_stripe, carol_record, paid_invoice, fake_stripe
):
    invoice, payment = paid_invoice
    token = form_token(alice_browser, payment)
    data = {"amount": "40.00", "reason": "Session cut short", "token": token}

    review = alice_browser.post(refund_url(payment), data)

    assert review.status_code == 200
    assert b"data-confirm" in review.content
    assert b"This cannot be undone" in review.content
    assert fake_stripe.calls_to("/v1/refunds") == []

    done = alice_browser.post(refund_url(payment), {**data, "confirm": "1"})

    assert done.status_code == 302 and done["Location"] == payment_url(payment)
    assert stripe_refunds(sunrise_stripe.account_id, payment.stripe_payment_intent_id) == [4000]
    with schema_context(sunrise.schema_name):
        refund = Refund.objects.get()
        assert (refund.amount, refund.status, refund.reason) == (
            4000,
            "succeeded",
            "Session cut short",
        )
        assert refund.stripe_refund_id.startswith("re_")
        entry = LedgerEntry.objects.get(kind=LedgerEntry.Kind.REFUND)
        assert (entry.amount, entry.payment, entry.refund) == (4000, payment, refund)
        assert selectors.client_balance(carol_record) == 4000
        invoice.refresh_from_db()
        assert invoice.status == Invoice.Status.PARTIALLY_PAID
        assert selectors.invoice_balance_due(invoice) == 4000
        assert selectors.refundable_amount(payment) == 11000
    page = alice_browser.get(payment_url(payment)).content.decode()
    assert "Refunded <strong data-refunded>$40.00" in page
    assert "Session cut short" in page


def test_a_double_submitted_refund_refunds_once_at_stripe(
    alice_browser, sunrise, sunrise_stripe, paid_invoice, fake_stripe
):
    _, payment = paid_invoice
    data = {"amount": "150.00", "reason": "Cancelled", "token": form_token(alice_browser, payment)}

    first = alice_browser.post(refund_url(payment), {**data, "confirm": "1"})
    second = alice_browser.post(refund_url(payment), {**data, "confirm": "1"})

    assert first.status_code == second.status_code == 302
    assert [call.method for call in fake_stripe.calls_to("/v1/refunds")] == ["POST"]
    assert stripe_refunds(sunrise_stripe.account_id, payment.stripe_payment_intent_id) == [15000]
    with schema_context(sunrise.schema_name):
        assert Refund.objects.count() == 1
        assert LedgerEntry.objects.filter(kind=LedgerEntry.Kind.REFUND).count() == 1


def test_the_refund_is_made_on_the_practices_own_connected_account(
    alice_browser, sunrise, harbor, sunrise_stripe, paid_invoice, fake_stripe
):
    connect(fake_stripe, harbor, charges=True)
    _, payment = paid_invoice
    data = {"amount": "10.00", "reason": "Goodwill", "token": form_token(alice_browser, payment)}

    alice_browser.post(refund_url(payment), {**data, "confirm": "1"})

    calls = fake_stripe.calls_to("/v1/refunds")
    assert calls and {call.stripe_account for call in calls} == {sunrise_stripe.account_id}


def test_it_never_refunds_more_than_is_left_and_keeps_what_was_typed(
    alice_browser, sunrise, sunrise_stripe, paid_invoice, fake_stripe
):
    _, payment = paid_invoice
    alice_browser.post(
        refund_url(payment),
        {"amount": "100.00", "reason": "First", "token": form_token(alice_browser, payment),
         "confirm": "1"},
    )  # fmt: skip

    response = alice_browser.post(
        refund_url(payment),
        {"amount": "60.00", "reason": "Too much", "token": form_token(alice_browser, payment),
         "confirm": "1"},
    )  # fmt: skip

    page = response.content.decode()
    assert response.status_code == 200
    assert "more than is left to refund" in page
    assert 'value="60.00"' in page and "Too much" in page
    assert len(fake_stripe.calls_to("/v1/refunds")) == 1
    with schema_context(sunrise.schema_name):
        with pytest.raises(ValidationError):
            refunds.refund_payment(
                payment, actor=None, amount=5001, reason="Over", request_key="direct-over"
            )
        assert selectors.refundable_amount(payment) == 5000


def test_a_refund_comes_out_of_credit_first_then_the_newest_application(
    sunrise, sunrise_stripe, carol_record, alice, fake_stripe
):
    with schema_context(sunrise.schema_name):
        older = issue(carol_record, fee=5000, day=date(2026, 11, 2))
        newer = issue(carol_record, fee=5000, day=date(2026, 11, 3))
    # $120 paid: $50 to each invoice, $20 left as credit.
    payment = card_payment(
        sunrise, sunrise_stripe.account_id, carol_record, 12000,
        applications=[(older, 5000), (newer, 5000)],
    )  # fmt: skip

    with schema_context(sunrise.schema_name):
        refunds.refund_payment(payment, actor=alice, amount=5000, reason="r", request_key="k1")

        older.refresh_from_db()
        newer.refresh_from_db()
        assert selectors.unapplied_credit(carol_record) == 0
        assert (older.status, selectors.invoice_balance_due(older)) == ("paid", 0)
        assert (newer.status, selectors.invoice_balance_due(newer)) == ("partially_paid", 3000)
        assert selectors.client_balance(carol_record) == 3000

        refunds.refund_payment(payment, actor=alice, amount=7000, reason="r", request_key="k2")

        older.refresh_from_db()
        newer.refresh_from_db()
        assert (older.status, newer.status) == ("issued", "issued")
        assert selectors.client_balance(carol_record) == 10000
        assert selectors.refundable_amount(payment) == 0


def test_the_statement_shows_the_refund_and_the_portal_summary_follows(
    sunrise, sunrise_stripe, carol_record, carol, alice, paid_invoice
):
    _, payment = paid_invoice
    with schema_context(sunrise.schema_name):
        assert selectors.portal_summary(carol)["balance"] == 0
        refunds.refund_payment(payment, actor=alice, amount=2500, reason="r", request_key="k")

        assert selectors.portal_summary(carol)["balance"] == 2500
        zone = ZoneInfo(sunrise.time_zone)
        today = datetime.now(tz=zone).date()
        data = statements.compute_statement(
            carol_record, start=date(2026, 11, 1), end=today, zone=zone
        )
        rows = statements.activity_rows(data, zone)
    # The payment is dated before the invoice was issued (today); the refund comes last.
    assert [row["description"] for row in rows] == [
        "Payment by card",
        "Invoice 1",
        "Refund to card",
    ]
    assert [row["amount"] for row in rows] == [-15000, 15000, 2500]
    assert data.ending_balance == 2500
    assert sum(data.aging.values()) == 2500


def test_a_cash_payment_cannot_be_refunded_to_a_card(alice_browser, sunrise, sunrise_stripe,
                                                      carol_record, fake_stripe):  # fmt: skip
    with schema_context(sunrise.schema_name):
        payment = services.record_payment(
            carol_record, actor=None, method="cash", amount=1000, received_at=PAID_AT
        )

    response = alice_browser.post(
        refund_url(payment), {"amount": "5.00", "reason": "x", "token": "t", "confirm": "1"}
    )

    assert response.status_code == 302
    assert fake_stripe.calls_to("/v1/refunds") == []
    assert b"Refund" not in alice_browser.get(payment_url(payment)).content.split(b"<h2")[0]


def test_stripe_being_unreachable_refunds_nothing_and_a_retry_finishes_it(
    alice_browser, sunrise, sunrise_stripe, paid_invoice, fake_stripe, settings
):
    _, payment = paid_invoice
    data = {"amount": "20.00", "reason": "Retry", "token": form_token(alice_browser, payment),
            "confirm": "1"}  # fmt: skip
    working = settings.STRIPE_API_BASE
    settings.STRIPE_API_BASE = "http://127.0.0.1:9"  # nothing listens on the discard port

    failed = alice_browser.post(refund_url(payment), data)

    assert failed.status_code == 200
    assert "Stripe could not be reached" in failed.content.decode()
    with schema_context(sunrise.schema_name):
        assert Refund.objects.get().status == Refund.Status.REQUESTED
        assert not LedgerEntry.objects.filter(kind=LedgerEntry.Kind.REFUND).exists()

    settings.STRIPE_API_BASE = working
    retried = alice_browser.post(refund_url(payment), data)

    assert retried.status_code == 302
    with schema_context(sunrise.schema_name):
        assert Refund.objects.get().status == Refund.Status.SUCCEEDED
        assert LedgerEntry.objects.get(kind=LedgerEntry.Kind.REFUND).amount == 2000
    assert stripe_refunds(sunrise_stripe.account_id, payment.stripe_payment_intent_id) == [2000]


# Who may see and refund ------------------------------------------------------------------


def test_a_clinician_sees_their_clients_payment_but_cannot_refund_it(
    bob_browser, sunrise, paid_invoice, fake_stripe
):
    _, payment = paid_invoice

    assert bob_browser.get(payment_url(payment)).status_code == 200
    assert bob_browser.get(refund_url(payment)).status_code == 403
    response = bob_browser.post(
        refund_url(payment), {"amount": "1.00", "reason": "x", "token": "bob", "confirm": "1"}
    )
    assert response.status_code == 403
    assert fake_stripe.calls_to("/v1/refunds") == []


def test_a_clinician_cannot_see_another_clients_payment(
    bob_browser, sunrise, sunrise_stripe, dave_record, fake_stripe
):
    payment = card_payment(sunrise, sunrise_stripe.account_id, dave_record, 1000)

    assert bob_browser.get(payment_url(payment)).status_code == 404
    assert bob_browser.get(refund_url(payment)).status_code == 403


def test_clients_and_anonymous_visitors_are_kept_out(
    carol_browser, dave_browser, sunrise_client, sunrise, paid_invoice, fake_stripe
):
    _, payment = paid_invoice
    for browser in (carol_browser, dave_browser, sunrise_client):
        for url in (payment_url(payment), refund_url(payment)):
            response = browser.get(url)
            assert response.status_code in (302, 403, 404)
            assert b"Cancelled" not in response.content
        browser.post(refund_url(payment), {"amount": "1.00", "reason": "x", "token": "c",
                                           "confirm": "1"})  # fmt: skip
    assert fake_stripe.calls_to("/v1/refunds") == []


def test_the_other_practice_cannot_reach_the_payment(
    hana_browser, alice_browser, sunrise, paid_invoice, fake_stripe
):
    _, payment = paid_invoice

    assert hana_browser.get(payment_url(payment)).status_code == 404
    assert (
        hana_browser.post(
            refund_url(payment), {"amount": "1.00", "reason": "x", "token": "h", "confirm": "1"}
        ).status_code
        == 404
    )
    # Hana's session means nothing on sunrise's host.
    hana_browser.defaults["HTTP_HOST"] = "sunrise.localhost"
    assert hana_browser.get(payment_url(payment)).status_code == 302
    assert fake_stripe.calls_to("/v1/refunds") == []
    assert alice_browser.get(payment_url(payment)).status_code == 200


def test_a_non_numeric_payment_id_is_not_found(alice_browser, sunrise):
    assert alice_browser.get("/practice/billing/payments/abc/").status_code == 404
    assert alice_browser.get("/practice/billing/payments/abc/refund/").status_code == 404
