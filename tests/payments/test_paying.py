"""Clients paying by card in the portal: PaymentIntents on the practice's connected account,
recorded once on the ledger whichever completion arrives first."""

import contextlib
import random
import re
from datetime import date

import pytest
import stripe
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import schema_context

from shared_apps.payments.stripe_api import connected_options
from shared_apps.payments.stripe_api import platform_client as stripe_client
from tenant_apps.billing import selectors as billing_selectors
from tenant_apps.billing.models import Invoice, LedgerEntry, Payment
from tenant_apps.mail.models import EmailDelivery
from tenant_apps.payments.models import PaymentAttempt, SavedCard
from tenants.models import Practice
from tests.billing.conftest import issue
from tests.payments.conftest import connect, deliver, event_payload, sign
from tests.payments.test_cards import COMPLETE_URL, start_setup

PAY_URL = "/billing/pay/"
DECLINED_AT_CHARGE = "4000000000000341"  # attaches fine, every charge is declined


@pytest.fixture
def sunrise_stripe(fake_stripe, sunrise):
    return connect(fake_stripe, sunrise, charges=True)


def owe(record, practice, *fees: int) -> list[Invoice]:
    """Issue one invoice per fee, oldest first, to `record` at `practice`."""
    with schema_context(practice.schema_name):
        return [issue(record, fee=fee, day=date(2026, 11, 1 + n)) for n, fee in enumerate(fees)]


def save_card(browser, account_id: str, number: str = "4242424242424242") -> SavedCard:
    """Add a card through the portal as Stripe.js would, and return it."""
    secret = start_setup(browser)
    api = stripe_client()
    options = connected_options(account_id)
    method = api.v1.payment_methods.create(
        params={
            "type": "card",
            "card": {"number": number, "exp_month": 12, "exp_year": 2031, "cvc": "123"},
        },
        options=options,
    )
    setup_intent_id = secret.split("_secret_")[0]
    api.v1.setup_intents.confirm(
        setup_intent_id, params={"payment_method": method.id}, options=options
    )
    assert browser.post(COMPLETE_URL, {"setup_intent": setup_intent_id}).status_code == 302
    practice = Practice.objects.get(domains__domain=browser.defaults["HTTP_HOST"])
    with schema_context(practice.schema_name):
        return SavedCard.objects.get(setup_intent_id=setup_intent_id)


def token(browser) -> str:
    match = re.search(r'name="form_token" value="([^"]+)"', browser.get(PAY_URL).content.decode())
    assert match, "the payment form carries no one-time token"
    return match.group(1)


def pay(browser, **fields):
    data = {"scope": "balance", "card": "new", "form_token": token(browser)} | fields
    return browser.post(PAY_URL, data)


def intent_creates(fake_stripe) -> list:
    return [
        call
        for call in fake_stripe.calls
        if call.method == "POST" and call.path == "/v1/payment_intents"
    ]


def browser_pays(client_secret: str, account_id: str, number: str = "4242424242424242") -> str:
    """What Stripe.js does with a new card: give it to Stripe and confirm the PaymentIntent.
    (localstripe confirms only a PaymentIntent that already has its payment method.)"""
    intent_id = client_secret.split("_secret_")[0]
    api = stripe_client()
    options = connected_options(account_id)
    method = api.v1.payment_methods.create(
        params={
            "type": "card",
            "card": {"number": number, "exp_month": 12, "exp_year": 2031, "cvc": "123"},
        },
        options=options,
    )
    api.v1.payment_intents.update(intent_id, params={"payment_method": method.id}, options=options)
    # A decline raises here, as Stripe.js would show it; the server reads the outcome back.
    with contextlib.suppress(stripe.CardError):
        api.v1.payment_intents.confirm(intent_id, options=options)
    return intent_id


def secret_on(page) -> str:
    match = re.search(r'data-client-secret="([^"]+)"', page.content.decode())
    assert match, "the confirm page carries no client secret"
    return match.group(1)


def test_a_client_pays_the_whole_balance_with_a_saved_card_oldest_invoice_first(
    carol_browser, carol_record, sunrise, sunrise_stripe, after_commit
):
    first, second = owe(carol_record, sunrise, 15000, 8000)
    card = save_card(carol_browser, sunrise_stripe.account_id)

    with after_commit():
        response = pay(carol_browser, card=str(card.pk))

    with schema_context(sunrise.schema_name):
        attempt = PaymentAttempt.objects.get(client=carol_record)
        payment = Payment.objects.get(client=carol_record)
        applied = [(a.invoice_id, a.amount) for a in payment.applications.order_by("id")]
        first.refresh_from_db()
        second.refresh_from_db()
        assert billing_selectors.client_balance(carol_record) == 0
    assert response["Location"] == f"{PAY_URL}{attempt.pk}/receipt/"
    assert (payment.amount, payment.method) == (23000, "card")
    assert payment.stripe_payment_intent_id == attempt.payment_intent_id
    assert applied == [(first.pk, 15000), (second.pk, 8000)]
    assert (first.status, second.status) == ("paid", "paid")
    receipt = carol_browser.get(response["Location"]).content.decode()
    assert "$230.00" in receipt and "Visa ending 4242" in receipt


def test_the_receipt_email_says_only_that_a_payment_was_received(
    carol_browser, carol_record, sunrise, sunrise_stripe, after_commit
):
    owe(carol_record, sunrise, 15000)
    card = save_card(carol_browser, sunrise_stripe.account_id)
    mail.outbox.clear()

    with after_commit():
        response = pay(carol_browser, card=str(card.pk))
    with after_commit():
        carol_browser.post(response["Location"].replace("receipt/", "complete/"))

    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["carol@client.test"]
    assert "payment was received" in message.subject
    assert response["Location"] in message.body
    for detail in ("150", "$", "4242", "Visa", "Invoice"):
        assert detail not in message.body and detail not in message.subject
    with schema_context(sunrise.schema_name):
        assert EmailDelivery.objects.filter(kind="payment_received").count() == 1


def test_a_double_submitted_payment_creates_one_charge(
    carol_browser, carol_record, sunrise, sunrise_stripe, fake_stripe
):
    owe(carol_record, sunrise, 15000)
    card = save_card(carol_browser, sunrise_stripe.account_id)
    form = {"scope": "partial", "amount": "50.00", "card": str(card.pk)}
    form["form_token"] = token(carol_browser)
    before = len(intent_creates(fake_stripe))

    first = carol_browser.post(PAY_URL, form)
    second = carol_browser.post(PAY_URL, form)

    assert first["Location"] == second["Location"]
    assert len(intent_creates(fake_stripe)) - before == 1
    with schema_context(sunrise.schema_name):
        assert Payment.objects.filter(client=carol_record).count() == 1
        assert billing_selectors.client_balance(carol_record) == 10000


def test_submitting_a_new_card_payment_again_reuses_the_open_attempt(
    carol_browser, carol_record, sunrise, sunrise_stripe, fake_stripe
):
    owe(carol_record, sunrise, 15000)

    first = pay(carol_browser)  # a fresh token each time, as after the back button
    second = pay(carol_browser)

    assert first["Location"] == second["Location"]
    assert len(intent_creates(fake_stripe)) == 1
    with schema_context(sunrise.schema_name):
        assert PaymentAttempt.objects.filter(client=carol_record).count() == 1


def test_choosing_something_else_cancels_the_unconfirmed_attempt_at_stripe(
    carol_browser, carol_record, sunrise, sunrise_stripe, fake_stripe
):
    first, _ = owe(carol_record, sunrise, 15000, 8000)
    pay(carol_browser)  # whole balance, new card: waiting for Elements
    card = save_card(carol_browser, sunrise_stripe.account_id)

    response = pay(carol_browser, scope="invoices", invoices=[str(first.pk)], card=str(card.pk))

    assert response["Location"].endswith("/receipt/")
    with schema_context(sunrise.schema_name):
        abandoned, paid = PaymentAttempt.objects.order_by("id")
        assert (abandoned.status, paid.status) == ("canceled", "succeeded")
        assert [p.amount for p in Payment.objects.all()] == [15000]
    cancels = fake_stripe.calls_to(f"/v1/payment_intents/{abandoned.payment_intent_id}/cancel")
    assert [call.stripe_account for call in cancels] == [sunrise_stripe.account_id]


def test_a_new_card_pays_through_elements_and_the_post_back_records_it_once(
    carol_browser, carol_record, sunrise, sunrise_stripe, platform_client, after_commit
):
    (invoice,) = owe(carol_record, sunrise, 15000)
    page = carol_browser.get(pay(carol_browser)["Location"])
    intent_id = browser_pays(secret_on(page), sunrise_stripe.account_id)
    with schema_context(sunrise.schema_name):
        attempt = PaymentAttempt.objects.get(payment_intent_id=intent_id)

    with after_commit():
        done = carol_browser.post(f"{PAY_URL}{attempt.pk}/complete/")
        carol_browser.get(f"{PAY_URL}{attempt.pk}/return/", {"payment_intent": intent_id})
        payload = event_payload(
            sunrise_stripe.account_id,
            event_type="payment_intent.succeeded",
            data_object={"id": intent_id, "object": "payment_intent"},
        )
        deliver(platform_client, payload, sign(payload))

    assert done["Location"] == f"{PAY_URL}{attempt.pk}/receipt/"
    with schema_context(sunrise.schema_name):
        assert Payment.objects.filter(stripe_payment_intent_id=intent_id).count() == 1
        invoice.refresh_from_db()
        assert invoice.status == "paid"


def test_every_call_for_a_sunrise_payment_carries_sunrises_account(
    carol_browser, carol_record, sunrise, harbor, sunrise_stripe, fake_stripe
):
    connect(fake_stripe, harbor, charges=True)
    owe(carol_record, sunrise, 15000, 2000)
    card = save_card(carol_browser, sunrise_stripe.account_id)
    fake_stripe.calls.clear()

    pay(carol_browser, scope="partial", amount="20.00", card=str(card.pk))
    page = carol_browser.get(pay(carol_browser)["Location"])
    browser_pays(secret_on(page), sunrise_stripe.account_id)
    intent_calls = [c for c in fake_stripe.calls if c.path.startswith("/v1/payment_intents")]
    carol_browser.post(page.request["PATH_INFO"] + "complete/")

    ours = [c for c in fake_stripe.calls if c.path.startswith("/v1/payment_intents")]
    assert len(intent_creates(fake_stripe)) == 2
    assert len(ours) > len(intent_calls) > 0
    assert {call.stripe_account for call in fake_stripe.calls} == {sunrise_stripe.account_id}


def test_the_amount_is_never_taken_from_the_request_body(
    carol_browser, carol_record, sunrise, sunrise_stripe
):
    owe(carol_record, sunrise, 15000, 8000)
    card = save_card(carol_browser, sunrise_stripe.account_id)

    pay(carol_browser, card=str(card.pk), amount="1.00", amount_minor="100", total="1")
    with schema_context(sunrise.schema_name):
        assert Payment.objects.get().amount == 23000

    _, fourth = owe(carol_record, sunrise, 9000, 4000)
    pay(carol_browser, scope="invoices", invoices=[str(fourth.pk)], card=str(card.pk),
        amount="0.01")  # fmt: skip
    with schema_context(sunrise.schema_name):
        paid = Payment.objects.order_by("-id").first()
        assert paid.amount == 4000
        assert [a.invoice_id for a in paid.applications.all()] == [fourth.pk]


def test_a_partial_amount_above_the_balance_is_refused_and_the_form_keeps_it(
    carol_browser, carol_record, sunrise, sunrise_stripe, fake_stripe
):
    owe(carol_record, sunrise, 15000)

    response = pay(carol_browser, scope="partial", amount="150.01")

    page = response.content.decode()
    assert response.status_code == 200
    assert "That is more than your balance." in page
    assert 'value="150.01"' in page
    assert intent_creates(fake_stripe) == []
    with schema_context(sunrise.schema_name):
        assert not PaymentAttempt.objects.exists()


def test_partial_payments_balance(carol_browser, carol_record, sunrise, sunrise_stripe):
    first, second = owe(carol_record, sunrise, 15000, 8000)
    card = save_card(carol_browser, sunrise_stripe.account_id)

    pay(carol_browser, scope="partial", amount="170.00", card=str(card.pk))
    with schema_context(sunrise.schema_name):
        first.refresh_from_db()
        second.refresh_from_db()
        assert (first.status, second.status) == ("paid", "partially_paid")
        assert billing_selectors.invoice_balance_due(second) == 6000
        assert billing_selectors.client_balance(carol_record) == 6000

    pay(carol_browser, scope="partial", amount="60.00", card=str(card.pk))
    with schema_context(sunrise.schema_name):
        second.refresh_from_db()
        assert second.status == "paid"
        assert billing_selectors.client_balance(carol_record) == 0
        assert sum(p.amount for p in Payment.objects.filter(client=carol_record)) == 23000


def test_a_declined_card_leaves_the_invoice_open_and_nothing_recorded(
    carol_browser, carol_record, sunrise, sunrise_stripe
):
    (invoice,) = owe(carol_record, sunrise, 15000)
    card = save_card(carol_browser, sunrise_stripe.account_id, number=DECLINED_AT_CHARGE)

    response = pay(carol_browser, card=str(card.pk))

    assert response.status_code == 200
    assert "The card was declined, so nothing was charged." in response.content.decode()
    with schema_context(sunrise.schema_name):
        invoice.refresh_from_db()
        assert invoice.status == "issued"
        assert not Payment.objects.exists()
        assert not LedgerEntry.objects.filter(kind="payment").exists()
        attempt = PaymentAttempt.objects.get()
    assert attempt.status == "failed"
    # A failed attempt does not block the next try.
    other = save_card(carol_browser, sunrise_stripe.account_id)
    assert pay(carol_browser, card=str(other.pk))["Location"].endswith("/receipt/")


def test_a_decline_in_the_browser_is_read_back_and_the_webhook_agrees(
    carol_browser, carol_record, sunrise, sunrise_stripe, platform_client, after_commit
):
    (invoice,) = owe(carol_record, sunrise, 15000)
    page = carol_browser.get(pay(carol_browser)["Location"])
    intent_id = browser_pays(secret_on(page), sunrise_stripe.account_id, DECLINED_AT_CHARGE)
    payload = event_payload(
        sunrise_stripe.account_id,
        event_type="payment_intent.payment_failed",
        data_object={"id": intent_id, "object": "payment_intent"},
    )

    with after_commit():
        deliver(platform_client, payload, sign(payload))
    followed = carol_browser.post(page.request["PATH_INFO"] + "complete/", follow=True)

    assert "declined" in followed.content.decode()
    with schema_context(sunrise.schema_name):
        assert PaymentAttempt.objects.get().status == "failed"
        invoice.refresh_from_db()
        assert invoice.status == "issued"
        assert not Payment.objects.exists()


@pytest.mark.parametrize("saved", [True, False], ids=["saved-card", "new-card"])
def test_stripe_unreachable_gives_a_clear_message_and_changes_nothing(
    carol_browser, carol_record, sunrise, sunrise_stripe, settings, saved
):
    (invoice,) = owe(carol_record, sunrise, 15000)
    card = save_card(carol_browser, sunrise_stripe.account_id) if saved else None
    settings.STRIPE_API_BASE = "http://127.0.0.1:9"

    response = pay(carol_browser, card=str(card.pk) if card else "new")

    assert "could not reach our card processor, so nothing was charged" in (
        response.content.decode()
    )
    with schema_context(sunrise.schema_name):
        invoice.refresh_from_db()
        assert invoice.status == "issued"
        assert not Payment.objects.exists()
        assert not PaymentAttempt.objects.filter(status__in=["started", "succeeded"]).exists()


def test_the_same_success_three_times_shuffled_with_others_leaves_the_ledger_exact(
    carol_browser,
    dave_browser,
    carol_record,
    dave_record,
    sunrise,
    sunrise_stripe,
    platform_client,
    after_commit,
):
    owe(carol_record, sunrise, 15000, 8000)
    owe(dave_record, sunrise, 4000)
    # Both pay in the browser; our server never hears back from either (it was down).
    carols = browser_pays(
        secret_on(carol_browser.get(pay(carol_browser)["Location"])), sunrise_stripe.account_id
    )
    daves = browser_pays(
        secret_on(dave_browser.get(pay(dave_browser)["Location"])), sunrise_stripe.account_id
    )

    def event(kind: str, intent_id: str, event_id: str) -> bytes:
        return event_payload(
            sunrise_stripe.account_id,
            event_type=kind,
            event_id=event_id,
            data_object={"id": intent_id, "object": "payment_intent"},
        )

    payloads = [event("payment_intent.succeeded", carols, "evt_carol_paid")] * 3 + [
        event("payment_intent.succeeded", daves, "evt_dave_paid"),
        event("payment_intent.succeeded", daves, "evt_dave_paid_again"),
        event("payment_intent.requires_action", carols, "evt_carol_stale"),
        event("payment_intent.payment_failed", daves, "evt_dave_stale"),
        event_payload(sunrise_stripe.account_id),
    ]
    random.Random(7).shuffle(payloads)

    with after_commit():
        for payload in payloads:
            assert deliver(platform_client, payload, sign(payload)).status_code == 200

    with schema_context(sunrise.schema_name):
        assert [p.amount for p in Payment.objects.filter(client=carol_record)] == [23000]
        assert [p.amount for p in Payment.objects.filter(client=dave_record)] == [4000]
        assert billing_selectors.client_balance(carol_record) == 0
        assert billing_selectors.client_balance(dave_record) == 0
        assert LedgerEntry.objects.filter(kind="payment").count() == 2
        assert set(PaymentAttempt.objects.values_list("status", flat=True)) == {"succeeded"}


def test_pay_is_hidden_until_the_practice_can_take_charges(
    carol_browser, carol_record, sunrise, fake_stripe
):
    owe(carol_record, sunrise, 15000)
    assert carol_browser.get(PAY_URL).status_code == 404
    assert "Pay by card" not in carol_browser.get("/billing/").content.decode()

    connect(fake_stripe, sunrise, charges=False)
    assert carol_browser.get(PAY_URL).status_code == 404
    assert "Pay by card" not in carol_browser.get("/billing/").content.decode()
    assert fake_stripe.calls == []


def test_the_billing_page_offers_to_pay_once_charges_are_enabled(
    carol_browser, carol_record, sunrise, sunrise_stripe
):
    assert "Pay by card" not in carol_browser.get("/billing/").content.decode()  # nothing owed
    owe(carol_record, sunrise, 15000)
    assert "Pay by card" in carol_browser.get("/billing/").content.decode()


def test_the_payment_page_costs_the_same_queries_for_one_invoice_or_many(
    carol_browser, carol_record, sunrise, sunrise_stripe
):
    owe(carol_record, sunrise, 15000)
    save_card(carol_browser, sunrise_stripe.account_id)
    carol_browser.get(PAY_URL)  # warm the practice and connection caches
    with CaptureQueriesContext(connection) as one:
        carol_browser.get(PAY_URL)

    owe(carol_record, sunrise, 2000, 3000, 4000)
    save_card(carol_browser, sunrise_stripe.account_id)
    with CaptureQueriesContext(connection) as many:
        page = carol_browser.get(PAY_URL).content.decode()

    assert page.count('name="invoices"') == 4
    assert len(many.captured_queries) == len(one.captured_queries)


def test_nothing_owed_shows_an_empty_state(carol_browser, carol_record, sunrise_stripe):
    page = carol_browser.get(PAY_URL).content.decode()
    assert "Nothing is due." in page
    assert "<form" not in page.split("<h1>")[1]


# Isolation ---------------------------------------------------------------------------------


def attempt_urls(pk: int) -> list[tuple[str, str]]:
    return [
        ("get", f"{PAY_URL}{pk}/"),
        ("post", f"{PAY_URL}{pk}/complete/"),
        ("get", f"{PAY_URL}{pk}/return/"),
        ("get", f"{PAY_URL}{pk}/receipt/"),
    ]


@pytest.fixture
def carols_attempt(carol_browser, carol_record, sunrise, sunrise_stripe):
    owe(carol_record, sunrise, 15000)
    card = save_card(carol_browser, sunrise_stripe.account_id)
    pay(carol_browser, card=str(card.pk))
    with schema_context(sunrise.schema_name):
        return PaymentAttempt.objects.get(client=carol_record)


def test_the_other_client_cannot_see_or_complete_a_payment(
    carols_attempt, dave_browser, dave_record
):
    for method, url in attempt_urls(carols_attempt.pk):
        assert getattr(dave_browser, method)(url).status_code == 404, url


def test_the_other_client_cannot_pay_with_or_authorize_someone_elses_card(
    carols_attempt, carol_record, dave_browser, dave_record, sunrise, sunrise_stripe
):
    owe(dave_record, sunrise, 4000)
    with schema_context(sunrise.schema_name):
        carols_card = SavedCard.objects.get(client=carol_record)

    assert pay(dave_browser, card=str(carols_card.pk)).status_code == 200  # not a choice
    url = f"{PAY_URL}cards/{carols_card.pk}/authorize/"
    assert dave_browser.post(url, {"authorize": "yes"}).status_code == 404
    with schema_context(sunrise.schema_name):
        assert not Payment.objects.filter(client=dave_record).exists()
        carols_card.refresh_from_db()
        assert carols_card.charges_authorized_at is None


def test_a_payment_id_from_one_practice_is_a_404_at_the_other(
    carols_attempt, ivan_browser, ivan_record, harbor, fake_stripe
):
    connect(fake_stripe, harbor, charges=True)
    for method, url in attempt_urls(carols_attempt.pk):
        assert getattr(ivan_browser, method)(url).status_code == 404, url


@pytest.mark.parametrize("index", range(4))
def test_an_anonymous_visitor_is_sent_to_sign_in(carols_attempt, sunrise_client, index):
    method, url = attempt_urls(carols_attempt.pk)[index]
    for target in (url, PAY_URL):
        response = getattr(sunrise_client, method)(target)
        assert response.status_code == 302
        assert "/sign-in/" in response["Location"]


def test_staff_and_other_practices_staff_are_not_clients(
    carols_attempt, alice_browser, hana_browser
):
    for browser in (alice_browser, hana_browser):
        response = browser.get(
            f"{PAY_URL}{carols_attempt.pk}/receipt/", HTTP_HOST="sunrise.localhost"
        )
        assert response.status_code == 302
        assert "/sign-in/" in response["Location"]
