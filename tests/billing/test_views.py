"""Every billing view, from the people who may use it, the other practice, the other client,
another role and an anonymous visitor. Ids of one practice used at another find nothing."""

from datetime import UTC, date, datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import schema_context

from tenant_apps.audit.models import AuditEvent
from tenant_apps.billing import documents, services
from tenant_apps.billing.models import (
    BillingDocument,
    BillingRun,
    ClientDiagnosis,
    Invoice,
    Location,
    Payment,
    Service,
)
from tenant_apps.practice.form_tokens import new_form_token
from tests.billing.conftest import issue
from tests.conftest import host_client, sign_in_where_sent

SUNRISE = "sunrise.localhost"
HARBOR = "harbor.localhost"


@pytest.fixture
def books(sunrise, harbor, carol_record, dave_record, ivan_record):
    """Invoices and shared statements for Carol and Dave at sunrise and Ivan at harbor.

    Sunrise makes a few extra rows first so its ids are not also harbor's ids.
    """
    with schema_context(harbor.schema_name):
        issue(ivan_record)
        ivan_doc = documents.create_statement(
            ivan_record, actor=None, start=date(2026, 11, 1), end=date(2026, 11, 30)
        )
        services.send_document(ivan_doc, actor=None)
    with schema_context(sunrise.schema_name):
        for _ in range(3):
            issue(dave_record)
        carol_invoice = issue(carol_record)
        carol_doc = documents.create_statement(
            carol_record, actor=None, start=date(2026, 11, 1), end=date(2026, 11, 30)
        )
        services.send_document(carol_doc, actor=None)
        carol_unsent = documents.create_statement(
            carol_record, actor=None, start=date(2026, 10, 1), end=date(2026, 10, 31)
        )
        dave_doc = documents.create_statement(
            dave_record, actor=None, start=date(2026, 11, 1), end=date(2026, 11, 30)
        )
        services.send_document(dave_doc, actor=None)
        diagnosis = services.add_diagnosis(carol_record, actor=None, code="F41.1")
        service = Service.objects.create(name="Therapy", fee=15000, cpt_code="90834")
        location = Location.objects.create(name="Office", place_of_service="11")
        for _ in range(3):
            BillingRun.objects.create(period_start=date(2026, 10, 1), period_end=date(2026, 10, 31))
        run = BillingRun.objects.create(
            period_start=date(2026, 11, 1), period_end=date(2026, 11, 30)
        )
    with schema_context(harbor.schema_name):
        for pk in (carol_invoice.pk, carol_doc.pk, dave_doc.pk):
            assert not Invoice.objects.filter(pk=carol_invoice.pk).exists()
            assert not BillingDocument.objects.filter(pk=pk).exists()
        assert not Service.objects.filter(pk=service.pk).exists()
        assert not Location.objects.filter(pk=location.pk).exists()
        assert not BillingRun.objects.filter(pk=run.pk).exists()
    return {
        "client": carol_record.pk,
        "invoice": carol_invoice.pk,
        "doc": carol_doc.pk,
        "unsent": carol_unsent.pk,
        "dave_doc": dave_doc.pk,
        "dave": dave_record.pk,
        "ivan_doc": ivan_doc.pk,
        "diagnosis": diagnosis.pk,
        "service": service.pk,
        "location": location.pk,
        "run": run.pk,
    }


# Managers-only pages: (path template, method).
MANAGER_PAGES = [
    ("/practice/billing/", "get"),
    ("/practice/billing/services/", "get"),
    ("/practice/billing/services/new/", "get"),
    ("/practice/billing/services/{service}/", "get"),
    ("/practice/billing/profile/", "get"),
    ("/practice/billing/locations/new/", "get"),
    ("/practice/billing/locations/{location}/", "get"),
    ("/practice/billing/clients/{client}/invoices/new/", "get"),
    ("/practice/billing/clients/{client}/payments/new/", "get"),
    ("/practice/billing/clients/{client}/statements/new/", "get"),
    ("/practice/billing/clients/{client}/superbills/new/", "get"),
    ("/practice/billing/invoices/{invoice}/issue/", "post"),
    ("/practice/billing/invoices/{invoice}/void/", "post"),
    ("/practice/billing/invoices/{invoice}/write-off/", "post"),
    ("/practice/billing/documents/send/", "post"),
    ("/practice/billing/statement-runs/", "get"),
    ("/practice/billing/statement-runs/{run}/", "get"),
    ("/practice/billing/statement-runs/{run}/status/", "get"),
]
# Pages any staff member who may see the client can read.
STAFF_PAGES = [
    "/practice/billing/clients/{client}/",
    "/practice/billing/invoices/{invoice}/",
    "/practice/billing/documents/{doc}/",
    "/practice/billing/documents/{doc}/pdf/",
    "/practice/billing/services/codes/?q=90834",
    "/practice/billing/diagnosis-codes/?q=F41",
]
# Pages with an id from sunrise, for the other-practice test.
ID_PAGES = [
    ("/practice/billing/services/{service}/", "get"),
    ("/practice/billing/locations/{location}/", "get"),
    ("/practice/billing/clients/{client}/", "get"),
    ("/practice/billing/clients/{client}/invoices/new/", "get"),
    ("/practice/billing/clients/{client}/payments/new/", "get"),
    ("/practice/billing/clients/{client}/statements/new/", "get"),
    ("/practice/billing/clients/{client}/superbills/new/", "get"),
    ("/practice/billing/clients/{client}/diagnoses/", "post"),
    ("/practice/billing/clients/{client}/diagnoses/{diagnosis}/remove/", "post"),
    ("/practice/billing/invoices/{invoice}/", "get"),
    ("/practice/billing/invoices/{invoice}/issue/", "post"),
    ("/practice/billing/invoices/{invoice}/void/", "post"),
    ("/practice/billing/invoices/{invoice}/write-off/", "post"),
    ("/practice/billing/documents/{doc}/", "get"),
    ("/practice/billing/documents/{doc}/pdf/", "get"),
    ("/practice/billing/statement-runs/{run}/", "get"),
    ("/practice/billing/statement-runs/{run}/status/", "get"),
]
PORTAL_PAGES = ["/billing/", "/billing/documents/{doc}/", "/billing/documents/{doc}/download/"]


def call(browser, method, path, host=SUNRISE):
    data = {"reason": "x", "amount": "1.00"} if method == "post" else None
    return getattr(browser, method)(path, data, HTTP_HOST=host)


def test_managers_use_and_others_are_refused(books, alice_browser, biller_browser, bob_browser):
    for path, method in MANAGER_PAGES:
        url = path.format(**books)
        if method == "get":
            assert call(alice_browser, method, url).status_code == 200, path
            assert call(biller_browser, method, url).status_code == 200, path
        assert call(bob_browser, method, url).status_code == 403, path


def _valid_writes(books):
    """Manager-only writes with data that would go through: a payment, a statement, a
    statement run, and sending the unsent statement."""
    return [
        (
            "/practice/billing/clients/{client}/payments/new/".format(**books),
            {
                "method": "cash",
                "amount": "1.00",
                "received_on": "2026-11-20",
                "form_token": new_form_token(),
            },
        ),
        (
            "/practice/billing/clients/{client}/statements/new/".format(**books),
            {"start": "2026-09-01", "end": "2026-09-30"},
        ),
        ("/practice/billing/statement-runs/", {}),
        ("/practice/billing/documents/send/", {"document": [books["unsent"]]}),
    ]


def _billing_state(practice):
    with schema_context(practice.schema_name):
        return (
            Payment.objects.count(),
            BillingDocument.objects.count(),
            BillingRun.objects.count(),
            BillingDocument.objects.filter(shared_at__isnull=False).count(),
        )


def test_writes_from_anyone_but_a_manager_change_nothing(
    sunrise, books, alice_browser, bob_browser, carol_browser, anonymous_sunrise, hana_browser
):
    before = _billing_state(sunrise)
    for browser, status in [
        (bob_browser, 403),
        (carol_browser, 302),
        (anonymous_sunrise, 302),
        (hana_browser, 302),
    ]:
        for url, data in _valid_writes(books):
            assert browser.post(url, data, HTTP_HOST=SUNRISE).status_code == status, url
    assert _billing_state(sunrise) == before

    for url, data in _valid_writes(books):
        assert alice_browser.post(url, data, HTTP_HOST=SUNRISE).status_code == 302, url
    assert _billing_state(sunrise) == tuple(count + 1 for count in before)


def test_anonymous_visitors_are_sent_to_sign_in(books, anonymous_sunrise):
    for path, method in MANAGER_PAGES + [(p, "get") for p in STAFF_PAGES]:
        response = call(anonymous_sunrise, method, path.format(**books))
        assert response.status_code == 302, path
        assert response["Location"].startswith("/practice/sign-in/"), path


def test_a_session_from_the_other_practice_is_anonymous_here(books, hana_browser):
    for path, method in MANAGER_PAGES + [(p, "get") for p in STAFF_PAGES]:
        response = call(hana_browser, method, path.format(**books))
        assert response.status_code == 302, path
        assert response["Location"].startswith("/practice/sign-in/"), path


def test_ids_from_the_other_practice_find_nothing(books, hana_browser):
    for path, method in ID_PAGES:
        response = call(hana_browser, method, path.format(**books), host=HARBOR)
        assert response.status_code == 404, path


def test_staff_who_may_see_the_client_can_read(books, alice_browser, bob_browser):
    for path in STAFF_PAGES:
        url = path.format(**books)
        assert call(alice_browser, "get", url).status_code == 200, path
        assert call(bob_browser, "get", url).status_code == 200, path


def test_a_clinician_cannot_see_a_client_who_is_not_theirs(books, bob_browser):
    for path in [
        "/practice/billing/clients/{dave}/",
        "/practice/billing/documents/{dave_doc}/",
        "/practice/billing/documents/{dave_doc}/pdf/",
    ]:
        assert call(bob_browser, "get", path.format(**books)).status_code == 404


def test_a_clinician_sees_billing_read_only(books, bob_browser):
    content = call(bob_browser, "get", "/practice/billing/clients/{client}/".format(**books))
    text = content.content.decode()
    assert "$150.00" in text
    assert "New invoice" not in text and "Record payment" not in text
    assert "Send selected" not in text


def test_a_clinician_adds_diagnoses_and_a_biller_may_not(
    sunrise, books, bob_browser, biller_browser
):
    url = "/practice/billing/clients/{client}/diagnoses/".format(**books)
    assert bob_browser.post(url, {"code": "f4323"}, HTTP_HOST=SUNRISE).status_code == 302
    assert biller_browser.post(url, {"code": "F32.9"}, HTTP_HOST=SUNRISE).status_code == 403
    with schema_context(sunrise.schema_name):
        codes = list(ClientDiagnosis.objects.values_list("code", flat=True))
    assert codes == ["F41.1", "F43.23"]


def test_a_bad_diagnosis_code_is_refused_with_its_reason(sunrise, books, bob_browser):
    url = "/practice/billing/clients/{client}/diagnoses/".format(**books)
    response = bob_browser.post(url, {"code": "F99.99"}, HTTP_HOST=SUNRISE, follow=True)
    assert "is not in this practice&#x27;s ICD-10-CM list" in response.content.decode()


def test_staff_pdf_downloads_are_audited(sunrise, books, alice_browser):
    response = alice_browser.get(
        "/practice/billing/documents/{doc}/pdf/?download=1".format(**books), HTTP_HOST=SUNRISE
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment;")
    assert response.content.startswith(b"%PDF")
    with schema_context(sunrise.schema_name):
        event = AuditEvent.objects.filter(action="billing.document_downloaded").get()
    assert event.object_id == str(books["doc"])


# The portal ---------------------------------------------------------------------------------


def test_the_client_sees_their_own_documents(books, carol_browser):
    for path in PORTAL_PAGES:
        assert call(carol_browser, "get", path.format(**books)).status_code == 200, path


def test_the_portal_pdf_is_inline_or_a_download(books, carol_browser):
    view = carol_browser.get("/billing/documents/{doc}/".format(**books), HTTP_HOST=SUNRISE)
    download = carol_browser.get(
        "/billing/documents/{doc}/download/".format(**books), HTTP_HOST=SUNRISE
    )
    assert view["Content-Disposition"].startswith("inline;")
    assert download["Content-Disposition"].startswith("attachment;")
    assert view.content == download.content and view.content.startswith(b"%PDF")


def test_the_other_client_cannot_open_a_document(books, dave_browser):
    for path in PORTAL_PAGES[1:]:
        assert call(dave_browser, "get", path.format(**books)).status_code == 404, path


def test_an_unsent_document_is_not_in_the_portal(books, carol_browser):
    for path in PORTAL_PAGES[1:]:
        url = path.replace("{doc}", str(books["unsent"]))
        assert call(carol_browser, "get", url).status_code == 404, url


def test_anonymous_visitors_are_sent_to_portal_sign_in(books, anonymous_sunrise):
    for path in PORTAL_PAGES:
        response = call(anonymous_sunrise, "get", path.format(**books))
        assert response.status_code == 302, path
        assert response["Location"].startswith("/sign-in/"), path


def test_after_signing_in_the_client_gets_the_pdf_she_was_sent_to_sign_in_for(
    books, carol, dave, anonymous_sunrise
):
    url = "/billing/documents/{doc}/download/".format(**books)

    response = sign_in_where_sent(anonymous_sunrise, anonymous_sunrise.get(url), carol)

    assert response.status_code == 200 and response.content.startswith(b"%PDF")
    assert response["Content-Disposition"].startswith("attachment;")
    other = host_client(SUNRISE)
    assert sign_in_where_sent(other, other.get(url), dave).status_code == 404


def test_the_other_practices_client_finds_nothing(books, ivan_browser):
    for path in PORTAL_PAGES[1:]:
        response = call(ivan_browser, "get", path.format(**books), host=HARBOR)
        assert response.status_code == 404, path


def test_staff_cannot_use_the_portal_pages(books, alice_browser):
    response = alice_browser.get("/billing/", HTTP_HOST=SUNRISE)
    assert response.status_code == 302


def test_the_portal_shows_balance_open_invoices_and_documents(books, carol_browser):
    text = carol_browser.get("/billing/", HTTP_HOST=SUNRISE).content.decode()
    assert "Current balance: <strong data-balance>$150.00</strong>" in text
    assert "Statement for November 2026" in text
    assert "Statement for October 2026" not in text  # not sent
    assert "Invoice" in text and "Issued" in text


def test_the_portal_home_balance_follows_a_payment(sunrise, books, carol_browser, carol_record):
    assert "$150.00" in carol_browser.get("/", HTTP_HOST=SUNRISE).content.decode()
    with schema_context(sunrise.schema_name):
        services.record_payment(
            carol_record,
            actor=None,
            method="cash",
            amount=5000,
            received_at=datetime(2026, 11, 20, tzinfo=UTC),
        )
    assert "$100.00" in carol_browser.get("/", HTTP_HOST=SUNRISE).content.decode()


# Query counts ---------------------------------------------------------------------------


def _queries(browser, url, host=SUNRISE):
    browser.get(url, HTTP_HOST=host)
    with CaptureQueriesContext(connection) as queries:
        assert browser.get(url, HTTP_HOST=host).status_code == 200
    return len(queries)


def test_list_pages_cost_the_same_whatever_their_length(
    sunrise, books, alice_browser, carol_browser, carol_record
):
    pages = [
        (alice_browser, "/practice/billing/"),
        (alice_browser, "/practice/billing/clients/{client}/".format(**books)),
        (carol_browser, "/billing/"),
    ]
    before = [_queries(browser, url) for browser, url in pages]
    with schema_context(sunrise.schema_name):
        for _ in range(4):
            invoice = issue(carol_record)
            services.send_document(invoice.document, actor=None)
            services.record_payment(
                carol_record,
                actor=None,
                method="cash",
                amount=100,
                received_at=datetime(2026, 11, 20, tzinfo=UTC),
            )
    after = [_queries(browser, url) for browser, url in pages]
    assert after == before
