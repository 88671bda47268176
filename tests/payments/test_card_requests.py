"""Staff ask a client for a card on file; cards expiring within 30 days are flagged to the
practice as well as to the client."""

from datetime import UTC, datetime

import pytest
import time_machine
from django.core import mail
from django_tenants.utils import schema_context

from tenant_apps.audit.models import AuditEvent
from tenant_apps.payments.models import SavedCard
from tests.clients.conftest import erin_record  # noqa: F401  (fixture)
from tests.payments.conftest import connect
from tests.payments.test_cards import add_card

# Mid-December in New York: a card expiring 12/2026 is within 30 days, 01/2027 is not.
DEC_10 = datetime(2026, 12, 10, 17, 0, tzinfo=UTC)


@pytest.fixture
def sunrise_stripe(fake_stripe, sunrise):
    return connect(fake_stripe, sunrise, charges=True)


def ask_url(client) -> str:
    return f"/practice/billing/clients/{client.pk}/card-request/"


def detail_url(client) -> str:
    return f"/practice/clients/{client.pk}/"


def card(practice, client, *, month, year, default=False, n=0) -> SavedCard:
    """A stored card as complete_card_setup leaves it (the flags read only these fields)."""
    with schema_context(practice.schema_name):
        return SavedCard.objects.create(
            client=client,
            account_id=practice.stripe_account.account_id,
            payment_method_id=f"pm_flag_{client.pk}_{n}",
            setup_intent_id=f"seti_flag_{client.pk}_{n}",
            brand="visa",
            last4=f"{4240 + n}",
            exp_month=month,
            exp_year=year,
            is_default=default,
        )


def test_a_clinician_asks_their_client_for_a_card_once_a_day(
    bob_browser, sunrise, sunrise_stripe, carol_record, after_commit
):
    mail.outbox.clear()

    with after_commit():
        first = bob_browser.post(ask_url(carol_record))
        second = bob_browser.post(ask_url(carol_record))

    assert first.status_code == second.status_code == 302
    assert [message.to for message in mail.outbox] == [["carol@client.test"]]
    message = mail.outbox[0]
    assert "please add a card" in message.subject
    assert "http://sunrise.localhost" in message.body and "/cards/" in message.body
    assert "$" not in message.body and "Carol" not in message.body
    with schema_context(sunrise.schema_name):
        assert AuditEvent.objects.filter(action="payments.card_requested").count() == 1


def test_the_request_leaves_a_portal_task_until_a_card_is_added(
    bob_browser, carol_browser, sunrise, sunrise_stripe, carol_record
):
    assert b"Add a card on file" not in carol_browser.get("/").content

    bob_browser.post(ask_url(carol_record))

    assert b"Add a card on file" in carol_browser.get("/").content
    add_card(carol_browser, sunrise_stripe.account_id)
    assert b"Add a card on file" not in carol_browser.get("/").content


def test_a_clinician_cannot_ask_another_clinicians_client(
    bob_browser, sunrise, sunrise_stripe, dave_record
):
    mail.outbox.clear()

    assert bob_browser.post(ask_url(dave_record)).status_code == 404
    assert mail.outbox == []


def test_the_other_practice_clients_and_anonymous_visitors_cannot_ask(
    hana_browser, carol_browser, dave_browser, sunrise_client, sunrise, sunrise_stripe,
    carol_record
):  # fmt: skip
    mail.outbox.clear()

    assert hana_browser.post(ask_url(carol_record)).status_code == 404
    for browser in (carol_browser, dave_browser, sunrise_client):
        response = browser.post(ask_url(carol_record))
        assert response.status_code in (302, 403)
        assert response.get("Location", "") != detail_url(carol_record)
    assert mail.outbox == []
    with schema_context(sunrise.schema_name):
        assert not AuditEvent.objects.filter(action="payments.card_requested").exists()


def test_a_client_without_a_portal_account_cannot_be_asked(
    alice_browser,
    sunrise,
    sunrise_stripe,
    erin_record,  # noqa: F811
):
    mail.outbox.clear()

    response = alice_browser.post(ask_url(erin_record), follow=True)

    assert "no portal account" in response.content.decode()
    assert mail.outbox == []


def test_nothing_is_asked_before_the_practice_can_take_cards(
    alice_browser, sunrise, fake_stripe, carol_record
):
    connect(fake_stripe, sunrise, charges=False)
    mail.outbox.clear()

    response = alice_browser.post(ask_url(carol_record), follow=True)

    assert "Stripe account is ready" in response.content.decode()
    assert mail.outbox == []


def test_expiring_cards_are_flagged_on_the_client_page_and_the_billing_home(
    alice_browser, sunrise, sunrise_stripe, carol_record, dave_record
):
    card(sunrise, carol_record, month=12, year=2026, default=True, n=1)
    card(sunrise, carol_record, month=1, year=2027, n=2)
    card(sunrise, dave_record, month=1, year=2027, default=True, n=3)

    with time_machine.travel(DEC_10, tick=False):
        carol_page = alice_browser.get(detail_url(carol_record)).content.decode()
        dave_page = alice_browser.get(detail_url(dave_record)).content.decode()
        home = alice_browser.get("/practice/billing/").content.decode()

    assert carol_page.count('data-flag="expiring"') == 1
    assert "ending 4241, expires 12/2026" in carol_page
    assert 'data-flag="expiring"' not in dave_page
    expiring = home.split("data-expiring-cards", 1)[1]
    assert "Carol" in expiring and "ending 4241" in expiring
    assert "Dave" not in expiring


def test_the_card_panel_is_not_shown_to_the_other_practice(
    hana_browser, sunrise, sunrise_stripe, carol_record
):
    card(sunrise, carol_record, month=12, year=2026, default=True, n=1)

    response = hana_browser.get(detail_url(carol_record))

    assert response.status_code == 404
    assert b"4241" not in response.content
