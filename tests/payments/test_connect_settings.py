"""Connecting a practice's Stripe account from the workspace (Stripe Connect onboarding)."""

import pytest
from django_tenants.utils import schema_context

from shared_apps.payments import services
from shared_apps.payments.models import StripeAccount
from shared_apps.payments.selectors import connection_status
from tenant_apps.audit.models import AuditEvent
from tests.payments.conftest import connect

SETTINGS_URL = "/practice/settings/payments/"
CONNECT_URL = "/practice/settings/payments/connect/"
REFRESH_URL = "/practice/settings/payments/refresh/"
DISCONNECT_URL = "/practice/settings/payments/disconnect/"
ONBOARDING_REFRESH_URL = "/practice/settings/payments/onboarding/refresh/"


def test_it_shows_an_unconnected_practice_how_to_connect(alice_browser, fake_stripe):
    page = alice_browser.get(SETTINGS_URL).content.decode()

    assert "Connect with Stripe" in page
    assert 'data-status="not-connected"' in page
    assert fake_stripe.calls == []


def test_connecting_creates_one_account_and_sends_the_owner_to_stripe(
    alice_browser, sunrise, fake_stripe
):
    response = alice_browser.post(CONNECT_URL)

    account = StripeAccount.objects.get(practice=sunrise)
    assert response.status_code == 302
    assert response["Location"].startswith(
        f"https://connect.stripe.test/setup/{account.account_id}/"
    )
    assert account.charges_enabled is False
    assert account.requirements_due == ["external_account", "tos_acceptance.date"]
    assert fake_stripe.accounts[account.account_id]["metadata"] == {"practice_id": str(sunrise.pk)}
    with schema_context(sunrise.schema_name):
        assert AuditEvent.objects.filter(action="payments.stripe_account_created").count() == 1


def test_connecting_again_reuses_the_account_with_a_fresh_link(alice_browser, sunrise, fake_stripe):
    first = alice_browser.post(CONNECT_URL)["Location"]
    second = alice_browser.post(CONNECT_URL)["Location"]

    assert first != second
    assert StripeAccount.objects.filter(practice=sunrise).count() == 1
    assert len(fake_stripe.calls_to("/v1/accounts")) == 1
    assert len(fake_stripe.calls_to("/v1/account_links")) == 2


def test_the_page_explains_what_stripe_still_needs(alice_browser, sunrise, fake_stripe):
    connect(fake_stripe, sunrise)

    page = alice_browser.get(SETTINGS_URL).content.decode()

    assert "A bank account for payouts" in page
    assert "Acceptance of Stripe&#x27;s terms of service" in page
    assert "Card features stay hidden from clients" in page
    assert "Continue setup on Stripe" in page


def test_returning_from_stripe_reads_the_status_from_stripe(
    alice_browser, sunrise, fake_stripe, after_commit
):
    account = connect(fake_stripe, sunrise)
    connection_status(sunrise)  # cached as "not yet enabled"
    fake_stripe.enable_charges(account.account_id)

    with after_commit():
        response = alice_browser.get(SETTINGS_URL + "?returned=1")
    page = alice_browser.get(SETTINGS_URL).content.decode()

    assert response.status_code == 302
    assert fake_stripe.calls_to(f"/v1/accounts/{account.account_id}")
    assert "Clients can add a card in the portal." in page
    assert "Stripe still needs" not in page
    assert connection_status(sunrise).cards_available is True


def test_check_status_now_refreshes_and_a_stripe_outage_changes_nothing(
    alice_browser, sunrise, fake_stripe, settings
):
    account = connect(fake_stripe, sunrise)
    fake_stripe.set_account(account.account_id, payouts_enabled=True)
    alice_browser.post(REFRESH_URL)
    account.refresh_from_db()
    assert account.payouts_enabled is True

    settings.STRIPE_API_BASE = "http://127.0.0.1:9"  # discard port: nothing listens
    fake_stripe.set_account(account.account_id, payouts_enabled=False)
    response = alice_browser.post(REFRESH_URL, follow=True)

    account.refresh_from_db()
    assert account.payouts_enabled is True
    assert "Stripe could not be reached" in response.content.decode()


def test_an_expired_onboarding_link_is_replaced(alice_browser, sunrise, fake_stripe):
    account = connect(fake_stripe, sunrise)

    response = alice_browser.get(ONBOARDING_REFRESH_URL)

    assert response["Location"].startswith(
        f"https://connect.stripe.test/setup/{account.account_id}/"
    )


def test_disconnecting_forgets_the_account_and_hides_cards(
    alice_browser, sunrise, fake_stripe, after_commit
):
    connect(fake_stripe, sunrise, charges=True)
    assert connection_status(sunrise).cards_available is True

    with after_commit():
        alice_browser.post(DISCONNECT_URL)

    assert not StripeAccount.objects.filter(practice=sunrise).exists()
    assert connection_status(sunrise).cards_available is False
    with schema_context(sunrise.schema_name):
        assert AuditEvent.objects.filter(action="payments.stripe_account_disconnected").exists()


@pytest.mark.parametrize(
    "method, url",
    [
        ("get", SETTINGS_URL),
        ("post", CONNECT_URL),
        ("post", REFRESH_URL),
        ("post", DISCONNECT_URL),
        ("get", ONBOARDING_REFRESH_URL),
    ],
)
def test_only_the_owner_may_manage_stripe(bob_browser, sunrise, fake_stripe, method, url):
    connect(fake_stripe, sunrise)

    response = getattr(bob_browser, method)(url)

    assert response.status_code == 403
    assert StripeAccount.objects.filter(practice=sunrise).exists()
    assert fake_stripe.calls_to("/v1/account_links") == []


@pytest.mark.parametrize("url", [SETTINGS_URL, CONNECT_URL, DISCONNECT_URL])
def test_an_anonymous_visitor_is_sent_to_sign_in(sunrise_client, sunrise, fake_stripe, url):
    connect(fake_stripe, sunrise)

    response = sunrise_client.post(url) if url != SETTINGS_URL else sunrise_client.get(url)

    assert response.status_code == 302
    assert "/practice/sign-in/" in response["Location"]
    assert StripeAccount.objects.filter(practice=sunrise).exists()


def test_a_client_cannot_reach_the_stripe_settings(carol_browser, sunrise, fake_stripe):
    connect(fake_stripe, sunrise)

    response = carol_browser.get(SETTINGS_URL)

    assert response.status_code == 302
    assert "/practice/sign-in/" in response["Location"]


def test_the_other_practice_sees_only_its_own_connection(
    hana_browser, sunrise, harbor, fake_stripe
):
    sunrise_account = connect(fake_stripe, sunrise, charges=True)

    page = hana_browser.get(SETTINGS_URL).content.decode()
    hana_browser.post(DISCONNECT_URL)

    assert sunrise_account.account_id not in page
    assert 'data-status="not-connected"' in page
    assert StripeAccount.objects.filter(practice=sunrise).exists()
    assert connection_status(harbor).connected is False


def test_a_session_from_one_practice_means_nothing_at_the_other(alice_browser, harbor):
    alice_browser.defaults["HTTP_HOST"] = "harbor.localhost"

    response = alice_browser.post(DISCONNECT_URL)

    assert response.status_code == 302
    assert "/practice/sign-in/" in response["Location"]


def test_status_is_cached_per_practice(sunrise, harbor, fake_stripe, django_assert_num_queries):
    connect(fake_stripe, sunrise, charges=True)
    assert connection_status(sunrise).cards_available is True

    with django_assert_num_queries(0):
        assert connection_status(sunrise).cards_available is True
    assert connection_status(harbor).connected is False


def test_refresh_without_a_connection_does_nothing(sunrise, fake_stripe):
    assert services.refresh_account(sunrise) is None
    assert fake_stripe.calls == []


def test_connected_calls_go_out_with_the_practices_account_and_never_as_the_platform(
    sunrise, fake_stripe
):
    # Foundation for cards on file: a call made through `connected_options` reaches
    # localstripe (through the proxy) carrying the practice's account id.
    from shared_apps.payments.stripe_api import connected_options, platform_client

    account = connect(fake_stripe, sunrise, charges=True)
    customer = platform_client().v1.customers.create(
        params={"metadata": {"client_id": "1"}}, options=connected_options(account.account_id)
    )

    assert customer.id.startswith("cus_")
    assert [call.stripe_account for call in fake_stripe.calls_to("/v1/customers")] == [
        account.account_id
    ]
    with pytest.raises(ValueError, match="acct_"):
        connected_options("")


def test_returning_from_a_first_onboarding_finds_the_new_account(
    alice_browser, sunrise, fake_stripe, after_commit
):
    alice_browser.get(SETTINGS_URL)  # caches "not connected"
    with after_commit():
        alice_browser.post(CONNECT_URL)
    account = StripeAccount.objects.get(practice=sunrise)
    fake_stripe.enable_charges(account.account_id)

    with after_commit():
        alice_browser.get(SETTINGS_URL + "?returned=1")
    page = alice_browser.get(SETTINGS_URL).content.decode()

    assert 'data-status="not-connected"' not in page
    assert "Clients can add a card in the portal." in page
