"""Cards on file in the portal: SetupIntents on the practice's connected account."""

import datetime
import re
from zoneinfo import ZoneInfo

import pytest
import stripe
from django.utils import timezone
from django_tenants.utils import schema_context

from shared_apps.payments.stripe_api import connected_options, platform_client
from tenant_apps.payments.models import SavedCard, StripeCustomer
from tests.payments.conftest import connect

CARDS_URL = "/cards/"
ADD_URL = "/cards/add/"
COMPLETE_URL = "/cards/complete/"
RETURN_URL = "/cards/return/"


@pytest.fixture
def sunrise_stripe(fake_stripe, sunrise):
    return connect(fake_stripe, sunrise, charges=True)


def start_setup(browser) -> str:
    """Open the add-card page and return the client secret it hands to Stripe.js."""
    page = browser.get(ADD_URL).content.decode()
    match = re.search(r'data-client-secret="([^"]+)"', page)
    assert match, "the add-card page carries no client secret"
    return match.group(1)


def browser_confirms(
    client_secret: str, account_id: str, *, exp_month: int = 12, exp_year: int = 2031
) -> str:
    """What Stripe.js does in the browser: send the card to Stripe and confirm the
    SetupIntent. Returns the SetupIntent id. Our server never sees the card number."""
    setup_intent_id = client_secret.split("_secret_")[0]
    api = platform_client()
    options = connected_options(account_id)
    method = api.v1.payment_methods.create(
        params={
            "type": "card",
            "card": {
                "number": "4242424242424242",
                "exp_month": exp_month,
                "exp_year": exp_year,
                "cvc": "123",
            },
        },
        options=options,
    )
    api.v1.setup_intents.confirm(
        setup_intent_id, params={"payment_method": method.id}, options=options
    )
    return setup_intent_id


def add_card(browser, account_id: str, **expiry: int) -> str:
    setup_intent_id = browser_confirms(start_setup(browser), account_id, **expiry)
    response = browser.post(COMPLETE_URL, {"setup_intent": setup_intent_id})
    assert response.status_code == 302
    return setup_intent_id


def test_a_client_saves_a_card_read_back_from_stripe(
    carol_browser, carol_record, sunrise, sunrise_stripe, fake_stripe
):
    setup_intent_id = add_card(carol_browser, sunrise_stripe.account_id)

    with schema_context(sunrise.schema_name):
        card = SavedCard.objects.get(client=carol_record)
        customer = StripeCustomer.objects.get(client=carol_record)
    assert (card.brand, card.last4, card.exp_month, card.exp_year) == ("visa", "4242", 12, 2031)
    assert card.setup_intent_id == setup_intent_id
    assert card.payment_method_id.startswith("pm_")
    assert card.is_default is True
    assert customer.account_id == sunrise_stripe.account_id
    page = carol_browser.get(CARDS_URL).content.decode()
    assert "Visa ending 4242" in page
    assert "4242424242424242" not in page


def test_every_stripe_call_for_the_practice_carries_its_connected_account(
    carol_browser, carol_record, sunrise, sunrise_stripe, fake_stripe
):
    add_card(carol_browser, sunrise_stripe.account_id)
    add_card(carol_browser, sunrise_stripe.account_id, exp_year=2032)
    with schema_context(sunrise.schema_name):
        first, second = SavedCard.objects.filter(client=carol_record).order_by("id")
    carol_browser.post(f"{CARDS_URL}{second.pk}/default/")
    carol_browser.post(f"{CARDS_URL}{first.pk}/remove/")

    made = [call for call in fake_stripe.calls if not call.path.startswith("/v1/accounts")]
    paths = {call.path.split("/")[2] for call in made}
    assert {"customers", "setup_intents", "payment_methods"} <= paths
    assert {call.stripe_account for call in made} == {sunrise_stripe.account_id}


def test_the_card_details_are_never_taken_from_the_request(
    carol_browser, carol_record, sunrise, sunrise_stripe
):
    setup_intent_id = browser_confirms(start_setup(carol_browser), sunrise_stripe.account_id)

    carol_browser.post(
        COMPLETE_URL,
        {"setup_intent": setup_intent_id, "last4": "0000", "brand": "amex", "exp_year": "2099"},
    )

    with schema_context(sunrise.schema_name):
        card = SavedCard.objects.get(client=carol_record)
    assert (card.brand, card.last4, card.exp_year) == ("visa", "4242", 2031)


def test_completing_the_same_setup_twice_saves_one_card(
    carol_browser, carol_record, sunrise, sunrise_stripe
):
    setup_intent_id = add_card(carol_browser, sunrise_stripe.account_id)

    carol_browser.get(RETURN_URL, {"setup_intent": setup_intent_id})

    with schema_context(sunrise.schema_name):
        assert SavedCard.objects.filter(client=carol_record).count() == 1


def test_an_unconfirmed_setup_is_refused(carol_browser, carol_record, sunrise, sunrise_stripe):
    setup_intent_id = start_setup(carol_browser).split("_secret_")[0]

    response = carol_browser.post(COMPLETE_URL, {"setup_intent": setup_intent_id}, follow=True)

    assert "The card was not confirmed" in response.content.decode()
    with schema_context(sunrise.schema_name):
        assert not SavedCard.objects.exists()


@pytest.mark.parametrize("value", ["", "pm_123", "seti_does_not_exist", "seti_" + "x" * 300])
def test_a_bad_setup_intent_id_gets_a_clear_error(
    carol_browser, carol_record, sunrise, sunrise_stripe, value
):
    start_setup(carol_browser)

    response = carol_browser.post(COMPLETE_URL, {"setup_intent": value}, follow=True)

    assert "That card setup was not recognised." in response.content.decode()
    with schema_context(sunrise.schema_name):
        assert not SavedCard.objects.exists()


def test_the_other_client_cannot_claim_a_setup_intent(
    carol_browser, dave_browser, carol_record, dave_record, sunrise, sunrise_stripe
):
    carols = browser_confirms(start_setup(carol_browser), sunrise_stripe.account_id)
    start_setup(dave_browser)  # Dave has a Customer of his own

    response = dave_browser.post(COMPLETE_URL, {"setup_intent": carols}, follow=True)

    assert "That card setup was not recognised." in response.content.decode()
    with schema_context(sunrise.schema_name):
        assert not SavedCard.objects.filter(client=dave_record).exists()


def test_the_other_client_cannot_remove_or_promote_a_card(
    carol_browser, dave_browser, carol_record, dave_record, sunrise, sunrise_stripe
):
    add_card(carol_browser, sunrise_stripe.account_id)
    with schema_context(sunrise.schema_name):
        card = SavedCard.objects.get(client=carol_record)

    assert dave_browser.post(f"{CARDS_URL}{card.pk}/remove/").status_code == 404
    assert dave_browser.post(f"{CARDS_URL}{card.pk}/default/").status_code == 404
    assert "4242" not in dave_browser.get(CARDS_URL).content.decode()
    with schema_context(sunrise.schema_name):
        assert SavedCard.objects.filter(pk=card.pk).exists()


def test_an_id_from_one_practice_is_a_404_at_the_other(
    carol_browser,
    ivan_browser,
    carol_record,
    ivan_record,
    sunrise,
    harbor,
    sunrise_stripe,
    fake_stripe,
):
    connect(fake_stripe, harbor, charges=True)
    add_card(carol_browser, sunrise_stripe.account_id)
    with schema_context(sunrise.schema_name):
        card = SavedCard.objects.get(client=carol_record)

    assert ivan_browser.post(f"{CARDS_URL}{card.pk}/remove/").status_code == 404
    assert ivan_browser.post(f"{CARDS_URL}{card.pk}/default/").status_code == 404
    with schema_context(sunrise.schema_name):
        assert SavedCard.objects.filter(pk=card.pk).exists()


@pytest.mark.parametrize("url", [CARDS_URL, ADD_URL])
def test_an_anonymous_visitor_is_sent_to_sign_in(sunrise_client, sunrise_stripe, url):
    response = sunrise_client.get(url)

    assert response.status_code == 302
    assert "/sign-in/" in response["Location"]


def test_staff_are_not_clients(alice_browser, sunrise_stripe):
    response = alice_browser.get(CARDS_URL)

    assert response.status_code == 302
    assert "/sign-in/" in response["Location"]


@pytest.mark.parametrize("url", [CARDS_URL, ADD_URL])
def test_cards_are_hidden_until_the_practice_can_take_charges(
    carol_browser, carol_record, sunrise, fake_stripe, url
):
    assert carol_browser.get(url).status_code == 404  # not connected

    connect(fake_stripe, sunrise, charges=False)
    assert carol_browser.get(url).status_code == 404  # connected, charges not enabled
    assert fake_stripe.calls == []


def test_a_client_with_nothing_billed_finds_her_cards_from_home(
    carol_browser, carol_record, sunrise_stripe
):
    home = carol_browser.get("/").content.decode()
    assert "You have no invoices, statements or superbills." in home
    assert 'href="/billing/"' in home

    billing = carol_browser.get("/billing/").content.decode()
    assert f'<a href="{CARDS_URL}">Cards on file</a>' in billing


def test_the_first_card_is_default_and_the_default_can_move(
    carol_browser, carol_record, sunrise, sunrise_stripe
):
    add_card(carol_browser, sunrise_stripe.account_id)
    add_card(carol_browser, sunrise_stripe.account_id, exp_year=2032)
    with schema_context(sunrise.schema_name):
        first, second = SavedCard.objects.filter(client=carol_record).order_by("id")
    assert (first.is_default, second.is_default) == (True, False)

    carol_browser.post(f"{CARDS_URL}{second.pk}/default/")

    with schema_context(sunrise.schema_name):
        first.refresh_from_db()
        second.refresh_from_db()
    assert (first.is_default, second.is_default) == (False, True)


def test_removing_the_default_detaches_it_and_promotes_the_newest(
    carol_browser, carol_record, sunrise, sunrise_stripe, fake_stripe
):
    add_card(carol_browser, sunrise_stripe.account_id)
    add_card(carol_browser, sunrise_stripe.account_id, exp_year=2032)
    with schema_context(sunrise.schema_name):
        first, second = SavedCard.objects.filter(client=carol_record).order_by("id")

    carol_browser.post(f"{CARDS_URL}{first.pk}/remove/")

    detaches = fake_stripe.calls_to(f"/v1/payment_methods/{first.payment_method_id}/detach")
    assert [call.stripe_account for call in detaches] == [sunrise_stripe.account_id]
    with schema_context(sunrise.schema_name):
        assert not SavedCard.objects.filter(pk=first.pk).exists()
        second.refresh_from_db()
    assert second.is_default is True


def test_one_customer_per_client_on_the_connected_account(
    carol_browser, carol_record, sunrise, sunrise_stripe, fake_stripe
):
    start_setup(carol_browser)
    start_setup(carol_browser)

    with schema_context(sunrise.schema_name):
        assert StripeCustomer.objects.filter(client=carol_record).count() == 1
    assert len(fake_stripe.calls_to("/v1/customers")) == 1
    assert len(fake_stripe.calls_to("/v1/setup_intents")) == 2


def test_cards_expiring_within_30_days_are_flagged(
    carol_browser, carol_record, sunrise, sunrise_stripe
):
    today = timezone.localdate(timezone=ZoneInfo(sunrise.time_zone))
    in_two_months = today.replace(day=1) + datetime.timedelta(days=62)
    # This month's end is at most 30 days away; the end of the month after next, at least 31.
    add_card(carol_browser, sunrise_stripe.account_id, exp_month=today.month, exp_year=today.year)
    add_card(
        carol_browser,
        sunrise_stripe.account_id,
        exp_month=in_two_months.month,
        exp_year=in_two_months.year,
    )

    page = carol_browser.get(CARDS_URL).content.decode()

    assert page.count('data-flag="expiring"') == 1
    assert 'data-flag="expired"' not in page


def test_a_stripe_outage_while_adding_changes_nothing(
    carol_browser, carol_record, sunrise, sunrise_stripe, settings
):
    settings.STRIPE_API_BASE = "http://127.0.0.1:9"

    response = carol_browser.get(ADD_URL, follow=True)

    assert "could not reach our card processor" in response.content.decode()
    with schema_context(sunrise.schema_name):
        assert not StripeCustomer.objects.exists()


def test_expiry_rules_on_the_model():
    card = SavedCard(exp_month=2, exp_year=2028)
    assert card.expires_on == datetime.date(2028, 2, 29)
    assert card.expires_soon_on(datetime.date(2028, 1, 30)) is True
    assert card.expires_soon_on(datetime.date(2028, 1, 29)) is False
    assert card.is_expired_on(datetime.date(2028, 2, 29)) is False
    assert card.is_expired_on(datetime.date(2028, 3, 1)) is True
    assert stripe.enable_telemetry is False


def test_the_portal_home_asks_to_replace_a_default_card_that_expires_soon(
    carol_browser, dave_browser, carol_record, dave_record, sunrise, sunrise_stripe
):
    today = timezone.localdate(timezone=ZoneInfo(sunrise.time_zone))
    assert "Update your card on file" not in carol_browser.get("/").content.decode()

    add_card(carol_browser, sunrise_stripe.account_id, exp_month=today.month, exp_year=today.year)
    add_card(dave_browser, sunrise_stripe.account_id, exp_year=today.year + 3)

    assert "Update your card on file" in carol_browser.get("/").content.decode()
    assert "Update your card on file" not in dave_browser.get("/").content.decode()
