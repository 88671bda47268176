"""The client's Documents section and the portal home's count of new documents."""

from datetime import timedelta

import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tenants.utils import schema_context

from tenant_apps.documents.models import Document, DocumentShare
from tests.documents.conftest import share_with, stored_document
from tests.documents.samples import image

SHARED_AT = timezone.datetime(2026, 3, 2, 15, 30, tzinfo=timezone.UTC)


def test_documents_lists_what_is_shared_newest_first_with_type_size_date_and_new_marker(
    sunrise, carol_record, carol_browser
):
    with time_machine.travel(SHARED_AT, tick=False):
        older = stored_document(sunrise, title="Welcome letter")
        share_with(sunrise, older, carol_record)
    with time_machine.travel(SHARED_AT + timedelta(days=1), tick=False):
        newer = stored_document(
            sunrise, title="Card scan", content=image("PNG"), kind="png", original_name="c.png"
        )
        share_with(sunrise, newer, carol_record, message="Please check the details.")

    page = carol_browser.get("/documents/").content.decode()

    assert page.index("Card scan") < page.index("Welcome letter")
    assert "PNG image" in page and "PDF" in page
    assert "Mar 3, 2026" in page and "Mar 2, 2026" in page
    assert "America/New_York" in page
    assert "Please check the details." in page
    assert page.count("data-new") == 2

    carol_browser.get(f"/documents/{newer.pk}/view/")

    assert carol_browser.get("/documents/").content.decode().count("data-new") == 1


def test_the_date_is_the_practices_local_date(sunrise, carol_record, carol_browser):
    # 02:00 UTC on March 3 is still March 2 in New York.
    with time_machine.travel(timezone.datetime(2026, 3, 3, 2, 0, tzinfo=timezone.UTC), tick=False):
        share_with(sunrise, stored_document(sunrise), carol_record)

    assert "Mar 2, 2026" in carol_browser.get("/documents/").content.decode()


def test_the_home_page_counts_new_documents(sunrise, carol_record, carol_browser):
    for title in ("One", "Two", "Three"):
        share_with(sunrise, stored_document(sunrise, title=title), carol_record)
    first = Document.objects.none()
    with schema_context(sunrise.schema_name):
        first = Document.objects.get(title="One")

    assert 'data-new-documents="3"' in carol_browser.get("/").content.decode()
    carol_browser.get(f"/documents/{first.pk}/download/")
    assert 'data-new-documents="2"' in carol_browser.get("/").content.decode()


def test_revoked_and_other_clients_documents_are_not_listed(
    sunrise, carol_record, dave_record, carol_browser
):
    share_with(sunrise, stored_document(sunrise, title="For Dave"), dave_record)
    share_with(
        sunrise,
        stored_document(sunrise, title="Taken back"),
        carol_record,
        revoked_at=timezone.now(),
    )

    page = carol_browser.get("/documents/").content.decode()
    home = carol_browser.get("/").content.decode()
    assert "For Dave" not in page and "Taken back" not in page
    assert "Nothing has been shared with you yet" in page
    assert "data-new-documents" not in home


def test_the_documents_page_needs_a_signed_in_client(sunrise, alice_browser):
    from tests.conftest import host_client

    assert host_client("sunrise.localhost").get("/documents/").status_code == 302
    assert alice_browser.get("/documents/").status_code == 302


def _share_many(practice, client, count: int, *, start: int) -> None:
    with schema_context(practice.schema_name):
        documents = Document.objects.bulk_create(
            Document(
                title=f"Document {n}",
                original_name=f"d{n}.pdf",
                storage_key=f"{practice.schema_name}/documents/bulk-{client.pk}-{n}",
                kind="pdf",
                size=1000 + n,
                sha256="0" * 64,
            )
            for n in range(start, start + count)
        )
        DocumentShare.objects.bulk_create(
            DocumentShare(document=document, client=client) for document in documents
        )


def _queries(browser, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert browser.get(url).status_code == 200
    return len(queries)


def test_query_counts_stay_the_same_from_one_to_five_hundred_documents(
    sunrise, carol_record, carol_browser
):
    _share_many(sunrise, carol_record, 1, start=0)
    # The first requests write what later ones only read (the settings row, the session).
    carol_browser.get("/documents/")
    carol_browser.get("/")
    with_one = (_queries(carol_browser, "/documents/"), _queries(carol_browser, "/"))

    _share_many(sunrise, carol_record, 499, start=1)
    with_five_hundred = (_queries(carol_browser, "/documents/"), _queries(carol_browser, "/"))

    assert with_one == with_five_hundred
    assert "Document 499" in carol_browser.get("/documents/").content.decode()


def test_the_home_counts_new_documents_beyond_the_latest_few_in_one_query(
    sunrise, carol, carol_record, dave_record
):
    from tenant_apps.documents.portal_views import HOME_PREVIEW, home_section

    for n in range(HOME_PREVIEW + 3):
        share_with(sunrise, stored_document(sunrise, title=f"Doc {n}"), carol_record)
    share_with(sunrise, stored_document(sunrise, title="Dave's"), dave_record)
    with schema_context(sunrise.schema_name):
        DocumentShare.objects.filter(document__title__in=["Doc 6", "Doc 7"]).update(
            first_viewed_at=timezone.now()
        )

        with CaptureQueriesContext(connection) as queries:
            section = home_section(None, carol)

    assert len(queries) == 1
    assert section["new_count"] == HOME_PREVIEW + 1
    assert [share.document.title for share in section["latest"]] == [
        "Doc 7",
        "Doc 6",
        "Doc 5",
        "Doc 4",
        "Doc 3",
    ]
