"""Staff charging a client's saved card for an invoice, with the client's authorization."""

import re

import pytest
from django_tenants.utils import schema_context

from tenant_apps.billing import selectors as billing_selectors
from tenant_apps.billing.models import Payment
from tenant_apps.payments.models import PaymentAttempt, SavedCard
from tests.payments.conftest import connect
from tests.payments.test_cards import COMPLETE_URL, browser_confirms, start_setup
from tests.payments.test_paying import DECLINED_AT_CHARGE, intent_creates, owe, save_card

CARDS_URL = "/cards/"


@pytest.fixture
def sunrise_stripe(fake_stripe, sunrise):
    return connect(fake_stripe, sunrise, charges=True)


def charge_url(invoice) -> str:
    return f"/practice/billing/invoices/{invoice.pk}/charge/"


def authorize(browser, card: SavedCard, *, yes: bool = True):
    data = {"authorize": "yes"} if yes else {}
    return browser.post(f"/billing/pay/cards/{card.pk}/authorize/", data)


def charge(browser, invoice, card: SavedCard, *, form_token: str | None = None):
    if form_token is None:
        page = browser.get(charge_url(invoice)).content.decode()
        match = re.search(r'name="form_token" value="([^"]+)"', page)
        assert match, "the charge page carries no one-time token"
        form_token = match.group(1)
    return browser.post(charge_url(invoice), {"card": str(card.pk), "form_token": form_token})


@pytest.fixture
def carols_card(carol_browser, carol_record, sunrise, sunrise_stripe):
    return save_card(carol_browser, sunrise_stripe.account_id)


def test_a_client_authorizes_charges_to_a_card_and_can_withdraw(
    carol_browser, carols_card, sunrise
):
    assert authorize(carol_browser, carols_card).status_code == 302
    with schema_context(sunrise.schema_name):
        carols_card.refresh_from_db()
    assert carols_card.charges_authorized_at is not None
    assert "Authorized " in carol_browser.get(CARDS_URL).content.decode()

    authorize(carol_browser, carols_card, yes=False)
    with schema_context(sunrise.schema_name):
        carols_card.refresh_from_db()
    assert carols_card.charges_authorized_at is None


def test_the_authorization_can_be_given_when_the_card_is_saved(
    carol_browser, carol_record, sunrise, sunrise_stripe
):
    setup_intent_id = browser_confirms(start_setup(carol_browser), sunrise_stripe.account_id)
    carol_browser.post(COMPLETE_URL, {"setup_intent": setup_intent_id, "authorize": "yes"})
    without = browser_confirms(start_setup(carol_browser), sunrise_stripe.account_id)
    carol_browser.post(COMPLETE_URL, {"setup_intent": without})

    with schema_context(sunrise.schema_name):
        given = SavedCard.objects.get(setup_intent_id=setup_intent_id)
        withheld = SavedCard.objects.get(setup_intent_id=without)
    assert given.charges_authorized_at is not None
    assert withheld.charges_authorized_at is None


def test_staff_charge_an_authorized_card_and_the_payment_applies_to_the_invoice(
    alice_browser, carol_browser, carol_record, carols_card, sunrise, fake_stripe
):
    first, second = owe(carol_record, sunrise, 15000, 8000)
    authorize(carol_browser, carols_card)
    page = alice_browser.get(charge_url(second)).content.decode()
    assert "$80.00" in page and "Visa ending 4242" in page

    response = charge(alice_browser, second, carols_card)

    assert response["Location"] == f"/practice/billing/invoices/{second.pk}/"
    with schema_context(sunrise.schema_name):
        payment = Payment.objects.get()
        assert [(a.invoice_id, a.amount) for a in payment.applications.all()] == [(second.pk, 8000)]
        second.refresh_from_db()
        first.refresh_from_db()
        assert (first.status, second.status) == ("issued", "paid")
        attempt = PaymentAttempt.objects.get()
        assert attempt.off_session is True
        assert attempt.started_by.email == "alice@sunrise.test"
    creates = intent_creates(fake_stripe)
    assert [call.stripe_account for call in creates] == [carols_card.account_id]
    assert (
        "Charge a card"
        in alice_browser.get(f"/practice/billing/clients/{carol_record.pk}/").content.decode()
    )


def test_a_card_without_the_clients_authorization_cannot_be_charged(
    alice_browser, carol_record, carols_card, sunrise, fake_stripe
):
    (invoice,) = owe(carol_record, sunrise, 15000)

    page = alice_browser.get(charge_url(invoice)).content.decode()
    response = charge(alice_browser, invoice, carols_card, form_token="t" * 20)

    assert "has no card they have authorized" in page
    assert response.status_code == 200
    assert intent_creates(fake_stripe) == []
    with schema_context(sunrise.schema_name):
        assert not Payment.objects.exists()


def test_a_double_submitted_staff_charge_charges_once(
    alice_browser, carol_browser, carol_record, carols_card, sunrise, fake_stripe
):
    first, _ = owe(carol_record, sunrise, 15000, 8000)
    authorize(carol_browser, carols_card)
    page = alice_browser.get(charge_url(first)).content.decode()
    token = re.search(r'name="form_token" value="([^"]+)"', page).group(1)

    charge(alice_browser, first, carols_card, form_token=token)
    charge(alice_browser, first, carols_card, form_token=token)

    assert len(intent_creates(fake_stripe)) == 1
    with schema_context(sunrise.schema_name):
        assert Payment.objects.count() == 1
        assert billing_selectors.client_balance(carol_record) == 8000


def test_a_declined_staff_charge_leaves_the_invoice_open(
    alice_browser, carol_browser, carol_record, sunrise, sunrise_stripe
):
    (invoice,) = owe(carol_record, sunrise, 15000)
    card = save_card(carol_browser, sunrise_stripe.account_id, number=DECLINED_AT_CHARGE)
    authorize(carol_browser, card)

    response = charge(alice_browser, invoice, card)

    assert "The card was declined, so nothing was charged." in response.content.decode()
    with schema_context(sunrise.schema_name):
        invoice.refresh_from_db()
        assert invoice.status == "issued"
        assert not Payment.objects.exists()


def test_a_clinician_cannot_charge_cards(
    bob_browser, carol_browser, carol_record, carols_card, sunrise, fake_stripe
):
    (invoice,) = owe(carol_record, sunrise, 15000)
    authorize(carol_browser, carols_card)
    before = len(intent_creates(fake_stripe))

    assert bob_browser.get(charge_url(invoice)).status_code == 403
    response = bob_browser.post(
        charge_url(invoice), {"card": str(carols_card.pk), "form_token": "x" * 20}
    )
    assert response.status_code == 403
    assert len(intent_creates(fake_stripe)) == before


def test_another_practices_staff_cannot_charge_a_sunrise_invoice(
    hana_browser, carol_browser, carol_record, carols_card, sunrise, harbor, fake_stripe
):
    connect(fake_stripe, harbor, charges=True)
    (invoice,) = owe(carol_record, sunrise, 15000)
    authorize(carol_browser, carols_card)
    before = len(intent_creates(fake_stripe))
    data = {"card": str(carols_card.pk), "form_token": "x" * 20}

    # At her own practice the ids mean nothing; at sunrise her session means nothing.
    assert hana_browser.get(charge_url(invoice)).status_code == 404
    assert hana_browser.post(charge_url(invoice), data).status_code == 404
    at_sunrise = hana_browser.post(charge_url(invoice), data, HTTP_HOST="sunrise.localhost")
    assert at_sunrise.status_code == 302
    assert len(intent_creates(fake_stripe)) == before


def test_a_client_cannot_reach_the_staff_charge(
    carol_browser, dave_browser, carol_record, carols_card, sunrise, fake_stripe
):
    (invoice,) = owe(carol_record, sunrise, 15000)
    authorize(carol_browser, carols_card)
    before = len(intent_creates(fake_stripe))
    data = {"card": str(carols_card.pk), "form_token": "x" * 20}

    for browser in (carol_browser, dave_browser):
        response = browser.post(charge_url(invoice), data)
        assert response.status_code == 302
        assert "/sign-in/" in response["Location"]
    assert len(intent_creates(fake_stripe)) == before


def test_charging_is_hidden_until_the_practice_can_take_charges(
    alice_browser, carol_record, sunrise, fake_stripe
):
    (invoice,) = owe(carol_record, sunrise, 15000)

    assert alice_browser.get(charge_url(invoice)).status_code == 404
    page = alice_browser.get(f"/practice/billing/clients/{carol_record.pk}/").content.decode()
    assert "Charge a card" not in page
