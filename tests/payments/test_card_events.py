"""Webhooks for refunds, disputes and cards on file, read back from Stripe and idempotent."""

import random

import pytest
from django.core import mail
from django_tenants.utils import schema_context

from shared_apps.payments import stripe_api
from shared_apps.payments.models import WebhookEvent
from shared_apps.payments.stripe_api import connected_options
from tenant_apps.audit.models import AuditEvent
from tenant_apps.billing import selectors
from tenant_apps.billing.models import Dispute, Invoice, LedgerEntry, Refund
from tenant_apps.payments import refunds
from tenant_apps.payments.models import SavedCard
from tests.billing.conftest import issue
from tests.payments.conftest import connect, deliver, event_payload, sign
from tests.payments.test_cards import browser_confirms, start_setup
from tests.payments.test_refunds import card_payment


@pytest.fixture
def sunrise_stripe(fake_stripe, sunrise):
    return connect(fake_stripe, sunrise, charges=True)


@pytest.fixture
def paid_invoice(sunrise, sunrise_stripe, carol_record):
    with schema_context(sunrise.schema_name):
        invoice = issue(carol_record, fee=15000)
    payment = card_payment(
        sunrise, sunrise_stripe.account_id, carol_record, 15000, applications=[(invoice, 15000)]
    )
    return invoice, payment


def charge_of(account_id: str, intent_id: str) -> str:
    intent = stripe_api.platform_client().v1.payment_intents.retrieve(
        intent_id, options=connected_options(account_id)
    )
    charge = intent.latest_charge
    return charge if isinstance(charge, str) else charge.id  # type: ignore[union-attr]


def refund_in_dashboard(account_id: str, intent_id: str, amount: int) -> str:
    """A refund made outside the app: straight at Stripe, without our metadata."""
    refund = stripe_api.platform_client().v1.refunds.create(
        params={"payment_intent": intent_id, "amount": amount},
        options=connected_options(account_id),
    )
    return str(refund.id)


def event(account_id: str, event_type: str, object_id: str, event_id: str | None = None) -> bytes:
    return event_payload(
        account_id, event_type=event_type, event_id=event_id, data_object={"id": object_id}
    )


def refund_entries(practice) -> list[int]:
    with schema_context(practice.schema_name):
        return sorted(
            LedgerEntry.objects.filter(kind=LedgerEntry.Kind.REFUND).values_list(
                "amount", flat=True
            )
        )


def test_a_refund_made_in_the_stripe_dashboard_is_reconciled(
    platform_client, sunrise, sunrise_stripe, carol_record, paid_invoice, after_commit
):
    invoice, payment = paid_invoice
    account = sunrise_stripe.account_id
    refund_in_dashboard(account, payment.stripe_payment_intent_id, 6000)
    payload = event(
        account, "charge.refunded", charge_of(account, payment.stripe_payment_intent_id)
    )

    with after_commit():
        deliver(platform_client, payload, sign(payload))

    assert WebhookEvent.objects.get().note == "refunds_recorded:1"
    assert refund_entries(sunrise) == [6000]
    with schema_context(sunrise.schema_name):
        refund = Refund.objects.get()
        assert (refund.payment, refund.status, refund.amount) == (payment, "succeeded", 6000)
        assert selectors.client_balance(carol_record) == 6000
        invoice.refresh_from_db()
        assert invoice.status == Invoice.Status.PARTIALLY_PAID
        assert selectors.refundable_amount(payment) == 9000


def test_the_same_charge_refunded_event_three_times_shuffled_with_others_leaves_the_ledger_exact(
    platform_client, sunrise, sunrise_stripe, carol_record, dave_record, paid_invoice,
    after_commit, alice
):  # fmt: skip
    _, payment = paid_invoice
    account = sunrise_stripe.account_id
    other = card_payment(sunrise, account, dave_record, 8000)
    # One refund made in the app, two in the dashboard, one on Dave's payment.
    with schema_context(sunrise.schema_name):
        refunds.refund_payment(payment, actor=alice, amount=1000, reason="app", request_key="k")
    refund_in_dashboard(account, payment.stripe_payment_intent_id, 2000)
    refund_in_dashboard(account, payment.stripe_payment_intent_id, 3000)
    refund_in_dashboard(account, other.stripe_payment_intent_id, 8000)
    carol_charge = charge_of(account, payment.stripe_payment_intent_id)
    dave_charge = charge_of(account, other.stripe_payment_intent_id)
    carol_event = event(account, "charge.refunded", carol_charge, event_id="evt_carol")
    deliveries = [carol_event] * 3 + [
        event(account, "charge.refunded", carol_charge),  # another event, same charge
        event(account, "charge.refunded", dave_charge),
        event_payload(account),  # account.updated
        event(account, "customer.created", "cus_x"),
    ]
    random.Random(7).shuffle(deliveries)

    with after_commit():
        for payload in deliveries:
            deliver(platform_client, payload, sign(payload))

    assert WebhookEvent.objects.filter(event_id="evt_carol").count() == 1
    assert refund_entries(sunrise) == [1000, 2000, 3000, 8000]
    with schema_context(sunrise.schema_name):
        assert Refund.objects.count() == 4
        assert selectors.client_balance(carol_record) == 6000
        assert selectors.client_balance(dave_record) == 0
        assert selectors.unapplied_credit(dave_record) == 0
        entries = LedgerEntry.objects.filter(client=carol_record)
        assert sum(entries.values_list("amount", flat=True)) == 6000


def test_our_own_refund_is_not_recorded_again_by_the_webhook(
    platform_client, sunrise, sunrise_stripe, paid_invoice, alice, after_commit
):
    _, payment = paid_invoice
    account = sunrise_stripe.account_id
    with schema_context(sunrise.schema_name):
        refunds.refund_payment(payment, actor=alice, amount=4000, reason="app", request_key="k")
    payload = event(
        account, "charge.refunded", charge_of(account, payment.stripe_payment_intent_id)
    )

    with after_commit():
        deliver(platform_client, payload, sign(payload))

    assert WebhookEvent.objects.get().note == "refunds_recorded:0"
    assert refund_entries(sunrise) == [4000]


def test_a_refund_whose_answer_was_lost_is_matched_by_its_metadata(
    platform_client, sunrise, sunrise_stripe, paid_invoice, alice, after_commit
):
    # Our row was written and Stripe made the refund, but the answer never reached us.
    _, payment = paid_invoice
    account = sunrise_stripe.account_id
    with schema_context(sunrise.schema_name):
        ours = Refund.objects.create(payment=payment, amount=2500, currency="USD", reason="lost")
    stripe_api.platform_client().v1.refunds.create(
        params={
            "payment_intent": payment.stripe_payment_intent_id,
            "amount": 2500,
            "metadata": {"refund_id": str(ours.pk)},
        },
        options=connected_options(account),
    )
    payload = event(
        account, "charge.refunded", charge_of(account, payment.stripe_payment_intent_id)
    )

    with after_commit():
        deliver(platform_client, payload, sign(payload))

    assert refund_entries(sunrise) == [2500]
    with schema_context(sunrise.schema_name):
        ours.refresh_from_db()
        assert ours.status == Refund.Status.SUCCEEDED and ours.stripe_refund_id.startswith("re_")
        assert Refund.objects.count() == 1


def test_a_dispute_is_recorded_once_and_the_owner_is_told_without_details(
    platform_client, alice_browser, sunrise, sunrise_stripe, carol_record, paid_invoice,
    fake_stripe, after_commit
):  # fmt: skip
    _, payment = paid_invoice
    account = sunrise_stripe.account_id
    dispute = fake_stripe.create_dispute(
        charge=charge_of(account, payment.stripe_payment_intent_id),
        payment_intent=payment.stripe_payment_intent_id,
        amount=15000,
    )
    mail.outbox.clear()

    with after_commit():
        for event_id in ("evt_dispute", "evt_dispute", "evt_dispute_again"):
            payload = event(account, "charge.dispute.created", dispute["id"], event_id=event_id)
            deliver(platform_client, payload, sign(payload))

    with schema_context(sunrise.schema_name):
        row = Dispute.objects.get()
        assert (row.payment, row.amount, row.status) == (payment, 15000, "needs_response")
        assert AuditEvent.objects.filter(action="payments.dispute_opened").count() == 1
    assert [message.to for message in mail.outbox] == [["alice@sunrise.test"]]
    message = mail.outbox[0]
    text = message.subject + message.body
    assert "needs your attention" in text
    for secret in ("150", "Carol", "Client", "fraudulent", dispute["id"]):
        assert secret not in text
    assert f"/practice/billing/payments/{payment.pk}/" in message.body
    page = alice_browser.get(f"/practice/billing/clients/{carol_record.pk}/").content.decode()
    assert "data-disputed" in page
    detail = alice_browser.get(f"/practice/billing/payments/{payment.pk}/").content.decode()
    assert "data-dispute" in detail


def test_a_dispute_in_another_practices_account_does_not_reach_this_one(
    platform_client, sunrise, harbor, sunrise_stripe, paid_invoice, fake_stripe, after_commit
):
    _, payment = paid_invoice
    harbor_account = connect(fake_stripe, harbor, charges=True)
    dispute = fake_stripe.create_dispute(
        charge="ch_unknown", payment_intent=payment.stripe_payment_intent_id, amount=100
    )
    payload = event(harbor_account.account_id, "charge.dispute.created", dispute["id"])

    with after_commit():
        deliver(platform_client, payload, sign(payload))

    with schema_context(sunrise.schema_name):
        assert not Dispute.objects.exists()
    with schema_context(harbor.schema_name):
        # Harbor has no such payment: the dispute is kept, linked to nothing of sunrise's.
        assert Dispute.objects.get().payment is None


# Cards on file ------------------------------------------------------------------------------


def test_setup_intent_succeeded_stores_the_card_once(
    platform_client, carol_browser, sunrise, sunrise_stripe, carol_record, after_commit
):
    account = sunrise_stripe.account_id
    setup_intent_id = browser_confirms(start_setup(carol_browser), account)
    # The client closed the tab before the return page loaded; only the webhook arrives.
    payloads = [event(account, "setup_intent.succeeded", setup_intent_id) for _ in range(2)]

    with after_commit():
        for payload in payloads:
            deliver(platform_client, payload, sign(payload))

    with schema_context(sunrise.schema_name):
        card = SavedCard.objects.get(client=carol_record)
        assert (card.setup_intent_id, card.is_default, card.last4) == (
            setup_intent_id,
            True,
            "4242",
        )
    response = carol_browser.post("/cards/complete/", {"setup_intent": setup_intent_id})
    assert response.status_code == 302
    with schema_context(sunrise.schema_name):
        assert SavedCard.objects.filter(client=carol_record).count() == 1


def test_a_card_detached_at_stripe_is_forgotten_and_the_default_moves(
    platform_client, carol_browser, sunrise, sunrise_stripe, carol_record, after_commit
):
    account = sunrise_stripe.account_id
    for year in (2031, 2032):
        setup_intent_id = browser_confirms(start_setup(carol_browser), account, exp_year=year)
        carol_browser.post("/cards/complete/", {"setup_intent": setup_intent_id})
    with schema_context(sunrise.schema_name):
        first, second = SavedCard.objects.filter(client=carol_record).order_by("exp_year")
    assert first.is_default and not second.is_default
    api, options = stripe_api.platform_client(), connected_options(account)
    with schema_context(sunrise.schema_name):
        customer_id = carol_record.stripe_customers.get().customer_id
    # Stripe attaches a SetupIntent's card to its customer; localstripe does not, so say so.
    api.v1.payment_methods.attach(
        second.payment_method_id, params={"customer": customer_id}, options=options
    )
    api.v1.payment_methods.detach(first.payment_method_id, options=options)
    still_attached = event(account, "payment_method.detached", second.payment_method_id)
    detached = event(account, "payment_method.detached", first.payment_method_id)

    with after_commit():
        for payload in (still_attached, detached, detached):
            deliver(platform_client, payload, sign(payload))

    with schema_context(sunrise.schema_name):
        remaining = list(SavedCard.objects.filter(client=carol_record))
    assert [(card.pk, card.is_default) for card in remaining] == [(second.pk, True)]
    notes = sorted(WebhookEvent.objects.values_list("note", flat=True))
    assert notes == ["card_removed", "still_attached"]


def test_a_refund_event_that_overtakes_its_payment_is_caught_up_when_the_payment_lands(
    platform_client, sunrise, sunrise_stripe, carol_record, after_commit
):
    from tests.payments.test_refunds import PAID_AT, stripe_payment

    account = sunrise_stripe.account_id
    intent_id = stripe_payment(account, 5000)
    refund_in_dashboard(account, intent_id, 5000)
    payload = event(account, "charge.refunded", charge_of(account, intent_id))

    with after_commit():
        deliver(platform_client, payload, sign(payload))

    assert WebhookEvent.objects.get().note == "no_payment"
    with schema_context(sunrise.schema_name):
        from tenant_apps.billing import services

        payment = services.record_payment(
            carol_record, actor=None, method="card", amount=5000, received_at=PAID_AT,
            stripe_payment_intent_id=intent_id,
        )  # fmt: skip
        assert refunds.reconcile_payment_refunds(payment, account) == "refunds_recorded:1"
        assert refunds.reconcile_payment_refunds(payment, account) == "refunds_recorded:0"
        assert selectors.client_balance(carol_record) == 0
