"""On a phone: a client adds a card through the Elements form and pays an invoice by card.

Stripe.js is replaced by the loopback stand-in of tests/browser/stripe_js.py, which sends the
card details from the browser to the fake Stripe API; our server is driven exactly as in
production (README.md, "Card payments in tests", says what only real Stripe would cover).
"""

from collections.abc import Iterator
from datetime import date

import pytest
from django.db import connection
from django_tenants.utils import schema_context

from shared_apps.payments.models import StripeAccount
from shared_apps.plans.models import Plan
from tenant_apps.accounts.models import Role, User
from tenant_apps.billing import selectors as billing_selectors
from tenant_apps.billing.models import Invoice, Payment
from tenant_apps.clients.models import Client
from tenant_apps.payments.models import SavedCard
from tenants.models import Practice
from tests.billing.conftest import issue
from tests.browser.conftest import PHONE
from tests.personas import PASSWORD, Persona
from tests.practices import drop_practice, provision_test_practice

pytestmark = pytest.mark.browser

OWNER = Persona("faye", "faye@fern.test", "Faye Owner", Role.OWNER)
CLIENT = Persona("finn", "finn@client.test", "Finn Client", Role.CLIENT)


@pytest.fixture(scope="module")
def fern(django_db_setup, django_db_blocker, stripe_stack) -> Iterator[Practice]:
    """A committed practice whose Stripe account takes charges, and Finn owing one invoice."""
    account = stripe_stack.fake.create_account({"type": ["standard"]})
    stripe_stack.fake.enable_charges(account["id"])
    with django_db_blocker.unblock():
        practice = provision_fern()
        StripeAccount.objects.create(
            practice=practice,
            account_id=account["id"],
            charges_enabled=True,
            payouts_enabled=True,
            details_submitted=True,
        )
        try:
            yield practice
        finally:
            connection.set_schema_to_public()
            StripeAccount.objects.filter(practice=practice).delete()
            drop_practice(practice)


def provision_fern() -> Practice:
    practice = provision_test_practice(
        "Fern Counselling", "fern-pay", Plan.STARTER, "America/Chicago", (OWNER, CLIENT)
    )
    with schema_context(practice.schema_name):
        finn = User.objects.get(email=CLIENT.email)
        record = Client.objects.create(
            legal_first_name="Finn", legal_last_name="Client", email=finn.email, user=finn
        )
        issue(record, fee=15000, day=date(2026, 11, 2))
    return practice


def test_a_client_adds_a_card_and_pays_an_invoice_on_a_phone(
    fern, browser, live_server_url, stripe_stack, stripe_in_browser, db
):
    stripe_stack.fake.calls.clear()
    account_id = StripeAccount.objects.get(practice=fern).account_id
    base = live_server_url("fern-pay")
    phone = browser.new_context(viewport=PHONE, has_touch=True, is_mobile=True)
    page = phone.new_page()
    try:
        page.goto(f"{base}/sign-in/")
        page.fill("input[name=username]", CLIENT.email)
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(f"{base}/")

        # A card on file, through the Elements form of the add-card page.
        page.goto(f"{base}/cards/add/")
        page.fill("#card-element [name=cardnumber]", "4242 4242 4242 4242")
        page.fill("#card-element [name=exp-date]", "12 / 31")
        page.fill("#card-element [name=cvc]", "123")
        page.check("input[name=authorize]")
        page.click("#card-submit")
        page.wait_for_url(f"{base}/cards/")
        assert "Visa ending 4242" in page.inner_text("main")

        # Pay the invoice with a new card, confirmed by Elements on the payment page.
        page.goto(f"{base}/billing/")
        page.click("text=Pay by card")
        page.wait_for_url(f"{base}/billing/pay/")
        page.check("input[name=scope][value=balance]")
        page.check("input[name=card][value=new]")
        page.click("#pay-submit")
        page.wait_for_selector("#payment-element [name=cardnumber]")
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        page.fill("#payment-element [name=cardnumber]", "4242 4242 4242 4242")
        page.fill("#payment-element [name=exp-date]", "11 / 30")
        page.fill("#payment-element [name=cvc]", "321")
        page.click("#payment-submit")
        page.wait_for_url("**/receipt/")
        receipt = page.inner_text("main")
        assert "Payment received" in receipt
        assert "$150.00" in receipt
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    finally:
        phone.close()

    with schema_context(fern.schema_name):
        (invoice,) = Invoice.objects.all()
        payment = Payment.objects.get()
        finn = Client.objects.get()
        assert invoice.status == "paid"
        assert payment.amount == 15000
        assert billing_selectors.client_balance(finn) == 0
        card = SavedCard.objects.get(client=finn)
        assert (card.last4, card.exp_month, card.exp_year) == ("4242", 12, 2031)
        assert card.charges_authorized_at is not None
    calls = [c for c in stripe_stack.fake.calls if not c.path.startswith("/v1/accounts")]
    assert {"setup_intents", "payment_intents", "payment_methods"} <= {
        call.path.split("/")[2] for call in calls
    }
    assert {call.stripe_account for call in calls} == {account_id}
