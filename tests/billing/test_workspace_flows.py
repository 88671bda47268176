"""The workspace forms: amounts typed in major units, codes validated, errors that keep what
was typed, and masked tax ids."""

import html
import re
from datetime import UTC, datetime

import pytest
import time_machine
from django.db import connection
from django_tenants.utils import schema_context

from tenant_apps.billing import selectors, services
from tenant_apps.billing.models import BillingProfile, Invoice, Payment, Service
from tenant_apps.clients.models import Client
from tenant_apps.practice.form_tokens import new_form_token
from tenants.models import Practice
from tests.billing.conftest import issue
from tests.conftest import race_behind_an_open_transaction

HOST = "sunrise.localhost"


def test_a_biller_adds_a_service_and_a_bad_cpt_code_is_explained(sunrise, biller_browser):
    bad = biller_browser.post(
        "/practice/billing/services/new/",
        {"name": "Intake", "cpt_code": "9079", "default_duration_minutes": 60, "fee": "200.00"},
        HTTP_HOST=HOST,
    )
    assert bad.status_code == 200
    text = bad.content.decode()
    assert "is not a CPT code" in text and 'value="Intake"' in text

    good = biller_browser.post(
        "/practice/billing/services/new/",
        {"name": "Intake", "cpt_code": "90791", "default_duration_minutes": 60, "fee": "200.00"},
        HTTP_HOST=HOST,
    )
    assert good.status_code == 302
    with schema_context(sunrise.schema_name):
        service = Service.objects.get()
    assert (service.fee, service.cpt_code) == (20000, "90791")


def test_the_profile_validates_npis_and_masks_the_tax_id(sunrise, alice_browser):
    form = {
        "legal_name": "Sunrise Therapy PLLC",
        "tax_id_kind": "ein",
        "tax_id": "12-3456789",
        "npi_individual": "1234567890",
        "npi_organization": "",
        "taxonomy_code": "",
        "tax_rate_basis_points": 0,
        "payment_terms_days": 30,
        "statement_day": 1,
        "currency": "USD",
    }
    bad = alice_browser.post("/practice/billing/profile/", form, HTTP_HOST=HOST)
    assert "check digit does not match" in bad.content.decode()
    with schema_context(sunrise.schema_name):
        assert BillingProfile.load().tax_id_encrypted == ""

    form["npi_individual"] = "1234567893"
    assert alice_browser.post("/practice/billing/profile/", form, HTTP_HOST=HOST).status_code == 302
    page = alice_browser.get("/practice/billing/profile/", HTTP_HOST=HOST).content.decode()
    assert "••-•••6789" in page
    # The stored value is never sent back, not even in the form field.
    assert "12-3456789" not in page
    tax_id_input = re.search(r'<input[^>]*id="id_tax_id"[^>]*>', page)
    assert tax_id_input is not None and "value=" not in tax_id_input[0]


def test_the_currency_cannot_change_once_the_ledger_has_entries(
    sunrise, alice_browser, carol_record
):
    from tests.billing.conftest import issue

    with schema_context(sunrise.schema_name):
        issue(carol_record)
    response = alice_browser.post(
        "/practice/billing/profile/",
        {
            "tax_id_kind": "ein",
            "tax_rate_basis_points": 0,
            "payment_terms_days": 30,
            "statement_day": 1,
            "currency": "JPY",
        },
        HTTP_HOST=HOST,
    )
    assert "cannot change once invoices or payments exist" in response.content.decode()
    assert Practice.objects.get(pk=sunrise.pk).currency == "USD"


def test_an_invoice_is_made_issued_and_paid_through_the_forms(
    sunrise, biller_browser, carol_record
):
    with schema_context(sunrise.schema_name):
        service = Service.objects.create(name="Therapy", fee=15000, cpt_code="90834")
    lines = {
        "form_token": new_form_token(),
        "lines-TOTAL_FORMS": 2,
        "lines-INITIAL_FORMS": 0,
        "lines-MIN_NUM_FORMS": 1,
        "lines-MAX_NUM_FORMS": 50,
        "lines-0-service": service.pk,
        "lines-0-date_of_service": "2026-11-03",
        "lines-0-units": 1,
        "lines-0-modifiers": "95",
        "lines-1-description": "Report",
        "lines-1-date_of_service": "2026-11-04",
        "lines-1-units": 2,
        "lines-1-unit_fee": "25.50",
        "lines-1-adjustment": "1.00",
        "action": "issue",
    }
    url = f"/practice/billing/clients/{carol_record.pk}/invoices/new/"
    response = biller_browser.post(url, lines, HTTP_HOST=HOST)
    assert response.status_code == 302, response.content.decode()[:2000]
    with schema_context(sunrise.schema_name):
        invoice = Invoice.objects.get()
    assert (invoice.status, invoice.total) == ("issued", 15000 + 5100 - 100)

    bad = biller_browser.post(
        f"/practice/billing/clients/{carol_record.pk}/payments/new/",
        {
            "form_token": new_form_token(),
            "method": "check",
            "amount": "100.005",
            "received_on": "2026-11-20",
            f"apply_{invoice.pk}": "100.00",
        },
        HTTP_HOST=HOST,
    )
    assert "USD amounts have at most 2 decimal places." in bad.content.decode()

    paid = biller_browser.post(
        f"/practice/billing/clients/{carol_record.pk}/payments/new/",
        {
            "form_token": new_form_token(),
            "method": "check",
            "amount": "250.00",
            "received_on": "2026-11-20",
            "reference": "1042",
            f"apply_{invoice.pk}": "200.00",
        },
        HTTP_HOST=HOST,
    )
    assert paid.status_code == 302
    with schema_context(sunrise.schema_name):
        invoice.refresh_from_db()
        assert invoice.status == "paid"
        assert selectors.unapplied_credit(carol_record) == 5000
        assert selectors.client_balance(carol_record) == -5000


def test_a_write_off_and_a_void_through_the_invoice_page(sunrise, alice_browser, carol_record):
    from tests.billing.conftest import issue

    with schema_context(sunrise.schema_name):
        invoice = issue(carol_record, fee=15000)
    base = f"/practice/billing/invoices/{invoice.pk}/"
    alice_browser.post(base + "write-off/", {"amount": "50", "reason": "Hardship"}, HTTP_HOST=HOST)
    refused = alice_browser.post(base + "void/", {"reason": ""}, HTTP_HOST=HOST, follow=True)
    assert "Give a reason for voiding the invoice." in refused.content.decode()
    alice_browser.post(base + "void/", {"reason": "Entered twice"}, HTTP_HOST=HOST)
    with schema_context(sunrise.schema_name):
        invoice.refresh_from_db()
        assert invoice.status == "void"
        assert selectors.client_balance(carol_record) == 0


# A Friday afternoon in New York, the practice's zone.
TODAY = datetime(2026, 11, 20, 20, tzinfo=UTC)


def _one_line(**line):
    return {
        "form_token": new_form_token(),
        "lines-TOTAL_FORMS": 1,
        "lines-INITIAL_FORMS": 0,
        "lines-MIN_NUM_FORMS": 1,
        "lines-MAX_NUM_FORMS": 50,
        "lines-0-description": "Assessment",
        "lines-0-date_of_service": "2026-11-03",
        "lines-0-units": 1,
        "lines-0-unit_fee": "150.00",
        **{f"lines-0-{name}": value for name, value in line.items()},
    }


def test_an_absurd_fee_or_unit_count_is_explained_and_no_invoice_is_made(
    sunrise, biller_browser, carol_record
):
    url = f"/practice/billing/clients/{carol_record.pk}/invoices/new/"

    response = biller_browser.post(
        url, _one_line(unit_fee="99999999999999999999.99", units=999), HTTP_HOST=HOST
    )

    text = response.content.decode()
    assert response.status_code == 200
    assert "Enter an amount of at most $1,000,000.00." in text
    assert "Ensure this value is less than or equal to 100." in text
    assert 'value="99999999999999999999.99"' in text
    with schema_context(sunrise.schema_name):
        assert not Invoice.objects.exists()


def _lines(count, **line):
    form = {**_one_line(**line), "lines-TOTAL_FORMS": count}
    for index in range(1, count):
        for name in ("description", "date_of_service", "units", "unit_fee"):
            form[f"lines-{index}-{name}"] = form[f"lines-0-{name}"]
    return form


def test_the_largest_allowed_invoice_is_a_million(sunrise, biller_browser, carol_record):
    url = f"/practice/billing/clients/{carol_record.pk}/invoices/new/"
    lines = _one_line(unit_fee="10,000.00", units=100)

    response = biller_browser.post(url, {**lines, "action": "issue"}, HTTP_HOST=HOST)

    assert response.status_code == 302
    with schema_context(sunrise.schema_name):
        assert Invoice.objects.get().total == 100_000_000


def test_an_invoice_over_a_million_is_explained_and_not_made(sunrise, biller_browser, carol_record):
    url = f"/practice/billing/clients/{carol_record.pk}/invoices/new/"

    response = biller_browser.post(url, _lines(2, unit_fee="500,000.01"), HTTP_HOST=HOST)

    text = response.content.decode()
    assert response.status_code == 200
    assert "An invoice can total at most $1,000,000.00." in text
    assert 'value="500,000.01"' in text
    with schema_context(sunrise.schema_name):
        assert not Invoice.objects.exists()


def test_an_invoice_has_at_most_fifty_lines(sunrise, biller_browser, carol_record):
    url = f"/practice/billing/clients/{carol_record.pk}/invoices/new/"

    response = biller_browser.post(url, _lines(51), HTTP_HOST=HOST)

    assert response.status_code == 200
    assert "An invoice can have at most 50 lines." in response.content.decode()
    with schema_context(sunrise.schema_name):
        assert not Invoice.objects.exists()

    assert biller_browser.post(url, _lines(50), HTTP_HOST=HOST).status_code == 302
    with schema_context(sunrise.schema_name):
        assert Invoice.objects.get().lines.count() == 50


def test_a_draft_shows_the_total_of_its_lines_and_nothing_due(
    sunrise, biller_browser, carol_record
):
    url = f"/practice/billing/clients/{carol_record.pk}/invoices/new/"
    response = biller_browser.post(url, _lines(4, unit_fee="250.00"), HTTP_HOST=HOST)
    assert response.status_code == 302

    page = biller_browser.get(response.url, HTTP_HOST=HOST).content.decode()
    assert "Total $1,000.00 · Balance due <strong data-balance-due>—</strong>" in page
    billing = biller_browser.get(
        f"/practice/billing/clients/{carol_record.pk}/", HTTP_HOST=HOST
    ).content.decode()
    assert "Draft invoice</a> · Draft · total $1,000.00, not yet due" in billing
    listing = biller_browser.get("/practice/billing/", HTTP_HOST=HOST).content.decode()
    assert "<td>$1,000.00</td>\n          <td>—</td>" in listing


@pytest.mark.parametrize(
    ("day", "message"),
    [
        ("9999-12-31", "Enter a date of service no more than a year from today."),
        ("2027-11-21", "Enter a date of service no more than a year from today."),
        ("1899-12-31", "Enter a date in 1900 or later."),
    ],
)
def test_a_service_date_out_of_range_is_explained(
    sunrise, biller_browser, carol_record, day, message
):
    url = f"/practice/billing/clients/{carol_record.pk}/invoices/new/"

    with time_machine.travel(TODAY, tick=False):
        response = biller_browser.post(url, _one_line(date_of_service=day), HTTP_HOST=HOST)

    assert response.status_code == 200 and message in response.content.decode()
    with schema_context(sunrise.schema_name):
        assert not Invoice.objects.exists()


def test_a_service_a_year_ahead_is_accepted(sunrise, biller_browser, carol_record):
    url = f"/practice/billing/clients/{carol_record.pk}/invoices/new/"

    with time_machine.travel(TODAY, tick=False):
        response = biller_browser.post(url, _one_line(date_of_service="2027-11-20"), HTTP_HOST=HOST)

    assert response.status_code == 302


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"amount": "99999999999999999999.99"}, "Enter an amount of at most $1,000,000.00."),
        ({"received_on": "9999-12-31"}, "A payment cannot be received after today."),
        ({"received_on": "2026-11-21"}, "A payment cannot be received after today."),
        ({"received_on": "0001-01-01"}, "Enter a date in 1900 or later."),
    ],
)
def test_a_payment_out_of_range_is_explained_and_not_recorded(
    sunrise, biller_browser, carol_record, fields, message
):
    posted = {
        "form_token": new_form_token(),
        "method": "check",
        "amount": "100.00",
        "received_on": "2026-11-20",
        **fields,
    }

    with time_machine.travel(TODAY, tick=False):
        response = biller_browser.post(
            f"/practice/billing/clients/{carol_record.pk}/payments/new/", posted, HTTP_HOST=HOST
        )

    assert response.status_code == 200 and message in response.content.decode()
    with schema_context(sunrise.schema_name):
        assert not Payment.objects.exists()


def test_an_absurd_service_fee_or_write_off_is_explained(sunrise, alice_browser, carol_record):
    from tests.billing.conftest import issue

    service = alice_browser.post(
        "/practice/billing/services/new/",
        {"name": "Intake", "cpt_code": "90791", "default_duration_minutes": 60, "fee": "1e20"},
        HTTP_HOST=HOST,
    )
    with schema_context(sunrise.schema_name):
        invoice = issue(carol_record, fee=15000)
    write_off = alice_browser.post(
        f"/practice/billing/invoices/{invoice.pk}/write-off/",
        {"amount": "99999999999999999999.99", "reason": "Hardship"},
        HTTP_HOST=HOST,
        follow=True,
    )

    assert "Enter an amount of at most $1,000,000.00." in service.content.decode()
    assert "Enter an amount of at most $1,000,000.00." in write_off.content.decode()
    with schema_context(sunrise.schema_name):
        assert not Service.objects.exists()
        assert selectors.client_balance(carol_record) == 15000


def _pay(browser, client, token, **fields):
    posted = {"form_token": token, "method": "cash", "amount": "50.00", "received_on": "2026-11-20"}
    url = f"/practice/billing/clients/{client.pk}/payments/new/"
    return browser.post(url, {**posted, **fields}, HTTP_HOST=HOST)


def test_an_invoice_form_sent_twice_issues_one_invoice(sunrise, biller_browser, carol_record):
    url = f"/practice/billing/clients/{carol_record.pk}/invoices/new/"
    form = {**_one_line(unit_fee="100.00"), "action": "issue"}

    first = biller_browser.post(url, form, HTTP_HOST=HOST)
    second = biller_browser.post(url, form, HTTP_HOST=HOST, follow=True)

    with schema_context(sunrise.schema_name):
        invoice = Invoice.objects.get()
        assert invoice.status == "issued"
        assert selectors.client_balance(carol_record) == 10000
    assert first["Location"] == f"/practice/billing/invoices/{invoice.pk}/"
    assert second.redirect_chain == [(first["Location"], 302)]
    assert "Invoice saved." in second.content.decode()


def test_a_payment_form_sent_twice_records_one_payment(sunrise, biller_browser, carol_record):
    with schema_context(sunrise.schema_name):
        invoice = issue(carol_record, fee=10000)
    token = new_form_token()

    first = _pay(biller_browser, carol_record, token, **{f"apply_{invoice.pk}": "50.00"})
    # The first payment paid part of the invoice; the second sees what the first one did.
    second = _pay(biller_browser, carol_record, token, **{f"apply_{invoice.pk}": "50.00"})

    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"]
    with schema_context(sunrise.schema_name):
        assert Payment.objects.count() == 1
        assert selectors.client_balance(carol_record) == 5000
    # A new form (a new token) records a second payment, as the practice means it to.
    assert _pay(biller_browser, carol_record, new_form_token()).status_code == 302
    with schema_context(sunrise.schema_name):
        assert Payment.objects.count() == 2


def test_a_payment_posted_without_its_form_token_is_refused_and_keeps_what_was_typed(
    sunrise, biller_browser, carol_record
):
    response = _pay(biller_browser, carol_record, "", reference="Check 7731")

    text = response.content.decode()
    assert response.status_code == 200
    assert "This form has expired. Check the details and save again." in text
    assert 'value="Check 7731"' in text
    (fresh,) = re.findall(r'name="form_token" value="([^"]+)"', text)
    assert _pay(biller_browser, carol_record, fresh).status_code == 302
    with schema_context(sunrise.schema_name):
        assert Payment.objects.count() == 1


def test_a_payment_sent_twice_at_once_waits_for_the_first_and_finds_it(
    committed_practice, django_db_blocker
):
    """Two real connections: the second submit reads before the first commits, then queues
    behind the client's row lock and finds the first payment instead of adding a twin."""
    token, received = new_form_token(), datetime(2026, 11, 20, 15, tzinfo=UTC)

    def pay() -> Payment:
        return services.record_payment(
            payer, actor=None, method="cash", amount=5000, received_at=received, form_token=token
        )

    with django_db_blocker.unblock():
        with schema_context(committed_practice.schema_name):
            payer = Client.objects.create(legal_first_name="Pat", legal_last_name="Payer")
        first, second = race_behind_an_open_transaction(committed_practice.schema_name, pay, pay)
        with schema_context(committed_practice.schema_name):
            payments = list(Payment.objects.filter(client=payer))
        connection.close()

    assert payments == [first]
    assert isinstance(second, services.AlreadySaved) and second.earlier == first


def test_a_used_payment_form_sent_with_other_details_records_nothing_and_says_so(
    sunrise, biller_browser, carol_record
):
    token = new_form_token()
    assert _pay(biller_browser, carol_record, token).status_code == 302

    # Back, a new amount, save: the first payment stands and the page keeps what was typed.
    edited = _pay(biller_browser, carol_record, token, amount="70.00")

    text = edited.content.decode()
    assert edited.status_code == 200
    assert "This form already recorded a payment of $50.00, and nothing else was recorded." in text
    assert 'value="70.00"' in text
    (fresh,) = re.findall(r'name="form_token" value="([^"]+)"', text)
    assert fresh != token
    with schema_context(sunrise.schema_name):
        assert list(Payment.objects.values_list("amount", flat=True)) == [5000]

    assert _pay(biller_browser, carol_record, fresh, amount="70.00").status_code == 302
    with schema_context(sunrise.schema_name):
        assert sorted(Payment.objects.values_list("amount", flat=True)) == [5000, 7000]


def test_a_used_invoice_form_sent_with_other_lines_makes_nothing_and_says_so(
    sunrise, biller_browser, carol_record
):
    url = f"/practice/billing/clients/{carol_record.pk}/invoices/new/"
    form = _one_line(unit_fee="100.00")
    assert biller_browser.post(url, form, HTTP_HOST=HOST).status_code == 302

    edited = biller_browser.post(url, {**form, "lines-0-unit_fee": "120.00"}, HTTP_HOST=HOST)

    text = html.unescape(edited.content.decode())
    assert edited.status_code == 200
    assert "This form was already saved as Draft invoice ($100.00)" in text
    assert 'value="120.00"' in text
    with schema_context(sunrise.schema_name):
        assert list(Invoice.objects.values_list("subtotal", flat=True)) == [10000]
