"""The workspace side: the library, sharing a stored document, the client's panel, seen
times, settings, deleting, and the other practice knowing nothing of any of it."""

import pytest
from django.core import mail
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django_tenants.utils import schema_context

from tenant_apps.audit.models import AuditEvent
from tenant_apps.documents.models import Document, DocumentSettings, DocumentShare
from tests.documents.conftest import share_with, stored_document


@pytest.fixture
def welcome_letter(sunrise):
    return stored_document(sunrise, title="Welcome letter", in_library=True)


def test_the_library_keeps_reusable_files(alice_browser, bob_browser, welcome_letter):
    for browser in (alice_browser, bob_browser):
        page = browser.get("/practice/documents/").content.decode()
        assert "Welcome letter" in page


def test_a_library_file_is_shared_with_several_clients_many_times(
    sunrise,
    alice_browser,
    welcome_letter,
    carol_record,
    dave_record,
    django_capture_on_commit_callbacks,
):
    url = f"/practice/documents/{welcome_letter.pk}/share/"
    with django_capture_on_commit_callbacks(execute=True):
        alice_browser.post(url, {"clients": [carol_record.pk, dave_record.pk], "message": "Hi"})
        # Sharing again with someone who has it already adds nothing.
        alice_browser.post(url, {"clients": [carol_record.pk]})

    with schema_context(sunrise.schema_name):
        shares = DocumentShare.objects.filter(document=welcome_letter)
        assert sorted(shares.values_list("client_id", flat=True)) == sorted(
            [carol_record.pk, dave_record.pk]
        )
        assert AuditEvent.objects.filter(action="document.shared").count() == 2
    assert sorted(m.to[0] for m in mail.outbox) == sorted([carol_record.email, dave_record.email])


def test_a_revoked_share_can_be_shared_again_and_is_new_again(
    sunrise, alice_browser, alice, welcome_letter, carol_record, carol_browser
):
    share = share_with(sunrise, welcome_letter, carol_record)
    carol_browser.get(f"/documents/{welcome_letter.pk}/view/")
    alice_browser.post(f"/practice/documents/shares/{share.pk}/unshare/")

    alice_browser.post(
        f"/practice/documents/{welcome_letter.pk}/share/", {"clients": [carol_record.pk]}
    )

    assert carol_browser.get(f"/documents/{welcome_letter.pk}/view/").status_code == 200
    with schema_context(sunrise.schema_name):
        assert DocumentShare.objects.filter(document=welcome_letter).count() == 2
        assert AuditEvent.objects.filter(action="document.unshared", actor_id=alice.pk).exists()


def test_the_clinician_sees_when_the_client_first_viewed_and_downloaded(
    sunrise, bob_browser, carol_browser, carol_record, welcome_letter
):
    share_with(sunrise, welcome_letter, carol_record)
    panel = bob_browser.get(f"/practice/clients/{carol_record.pk}/").content.decode()
    assert "Welcome letter" in panel and "not opened yet" in panel

    carol_browser.get(f"/documents/{welcome_letter.pk}/view/")
    carol_browser.get(f"/documents/{welcome_letter.pk}/download/")

    panel = bob_browser.get(f"/practice/clients/{carol_record.pk}/").content.decode()
    assert "first viewed" in panel and "first downloaded" in panel
    assert "not opened yet" not in panel
    detail = bob_browser.get(f"/practice/documents/{welcome_letter.pk}/").content.decode()
    assert "first viewed" in detail and "Carol" in detail


def test_staff_opening_a_document_does_not_count_as_the_client_seeing_it(
    sunrise, alice_browser, carol_record, welcome_letter
):
    share = share_with(sunrise, welcome_letter, carol_record)

    alice_browser.get(f"/practice/documents/{welcome_letter.pk}/view/")

    with schema_context(sunrise.schema_name):
        share.refresh_from_db()
        assert share.is_new
        assert AuditEvent.objects.filter(
            action="document.viewed", object_id=str(welcome_letter.pk)
        ).exists()


def test_unsharing_from_the_client_page_returns_there(
    alice_browser, carol_record, sunrise, welcome_letter
):
    share = share_with(sunrise, welcome_letter, carol_record)
    back = f"/practice/clients/{carol_record.pk}/"

    response = alice_browser.post(f"/practice/documents/shares/{share.pk}/unshare/", {"next": back})
    evil = alice_browser.post(
        f"/practice/documents/shares/{share.pk}/unshare/", {"next": "https://evil.test/"}
    )

    assert response["Location"] == back
    assert evil["Location"] == f"/practice/documents/{welcome_letter.pk}/"


def test_another_practice_cannot_unshare_share_or_see_sunrise_documents(
    sunrise, hana_browser, carol_record, welcome_letter
):
    share = share_with(sunrise, welcome_letter, carol_record)

    assert hana_browser.post(f"/practice/documents/shares/{share.pk}/unshare/").status_code == 404
    assert hana_browser.get(f"/practice/documents/{welcome_letter.pk}/").status_code == 404
    assert (
        hana_browser.post(
            f"/practice/documents/{welcome_letter.pk}/share/", {"clients": [carol_record.pk]}
        ).status_code
        == 404
    )
    assert "Welcome letter" not in hana_browser.get("/practice/documents/").content.decode()
    with schema_context(sunrise.schema_name):
        share.refresh_from_db()
        assert share.is_active


def test_a_clinician_cannot_unshare_for_a_client_who_is_not_theirs(
    sunrise, bob_browser, dave_record, welcome_letter
):
    share = share_with(sunrise, welcome_letter, dave_record)

    assert bob_browser.post(f"/practice/documents/shares/{share.pk}/unshare/").status_code == 404


def test_anonymous_visitors_are_sent_to_sign_in_from_workspace_pages(sunrise, welcome_letter):
    from tests.conftest import host_client

    anonymous = host_client("sunrise.localhost")
    for url in ("/practice/documents/", f"/practice/documents/{welcome_letter.pk}/"):
        response = anonymous.get(url)
        assert response.status_code == 302 and "/practice/sign-in/" in response["Location"]


def test_the_owner_sees_the_storage_quota_and_clinicians_do_not(
    sunrise, alice_browser, bob_browser, welcome_letter
):
    with schema_context(sunrise.schema_name):
        DocumentSettings.objects.update_or_create(pk=1, defaults={"quota_bytes": 10 * 1024**2})

    owner_page = alice_browser.get("/practice/documents/").content.decode()
    clinician_page = bob_browser.get("/practice/documents/").content.decode()

    assert f'data-storage-used="{welcome_letter.size}"' in owner_page
    assert "of 10.0\xa0MB used" in owner_page
    assert "data-storage-used" not in clinician_page


def test_only_the_owner_lets_clients_upload(sunrise, alice_browser, bob_browser):
    assert (
        bob_browser.post("/practice/documents/settings/", {"clients_may_upload": "on"}).status_code
        == 403
    )
    alice_browser.post("/practice/documents/settings/", {"clients_may_upload": "on"})

    with schema_context(sunrise.schema_name):
        assert DocumentSettings.load().clients_may_upload


def test_deleting_a_document_removes_its_row_shares_and_stored_bytes(
    store, sunrise, alice_browser, carol_record, carol_browser, django_capture_on_commit_callbacks
):
    document = stored_document(sunrise, in_library=True)
    share_with(sunrise, document, carol_record)

    with django_capture_on_commit_callbacks(execute=True):
        response = alice_browser.post(f"/practice/documents/{document.pk}/delete/")

    assert response.status_code == 302
    assert store.keys() == []
    with schema_context(sunrise.schema_name):
        assert not Document.objects.filter(pk=document.pk).exists()
    assert carol_browser.get(f"/documents/{document.pk}/view/").status_code == 404


def test_a_clinician_deletes_only_what_they_uploaded(sunrise, bob, bob_browser, alice):
    alices = stored_document(sunrise, in_library=True, uploaded_by=alice)
    bobs = stored_document(sunrise, in_library=True, uploaded_by=bob)

    bob_browser.post(f"/practice/documents/{alices.pk}/delete/")
    bob_browser.post(f"/practice/documents/{bobs.pk}/delete/")

    with schema_context(sunrise.schema_name):
        assert list(Document.objects.values_list("pk", flat=True)) == [alices.pk]


def test_the_share_page_renders_with_the_client_chosen(alice_browser, carol_record):
    page = alice_browser.get(
        f"/practice/documents/share/?client={carol_record.pk}"
    ).content.decode()

    assert "Share documents with Carol Client" in page
    assert f'<option value="{carol_record.pk}" selected>' in page
    assert 'enctype="multipart/form-data"' in page and "<progress" in page


def test_no_email_is_sent_for_a_share_revoked_before_delivery(
    sunrise, alice, carol_record, welcome_letter
):
    from tenant_apps.documents import services
    from tenant_apps.mail.models import EmailDelivery
    from tenant_apps.mail.tasks import deliver_email

    with schema_context(sunrise.schema_name):
        (share,) = services.share_document(welcome_letter, actor=alice, clients=[carol_record])
        services.unshare(share, actor=alice)
        delivery = EmailDelivery.objects.get(kind="documents_shared")
        deliver_email.apply(args=[delivery.pk])
        delivery.refresh_from_db()

    assert mail.outbox == []
    assert delivery.skipped_at is not None and delivery.sent_at is None


def test_the_deploy_checks_refuse_an_s3_store_without_a_bucket(settings):
    settings.DOCUMENTS_STORAGE_KIND = "s3"
    settings.DOCUMENTS_S3_BUCKET = ""

    with pytest.raises(SystemCheckError, match="DOCUMENTS_S3_BUCKET"):
        call_command("check", "--deploy", "--fail-level", "ERROR")


def _library_and_uploads(practice, client, count: int, *, start: int) -> None:
    with schema_context(practice.schema_name):
        documents = Document.objects.bulk_create(
            Document(
                title=f"Doc {n}",
                original_name=f"d{n}.pdf",
                storage_key=f"{practice.schema_name}/documents/ws-{n}",
                kind="pdf",
                size=100,
                sha256="0" * 64,
                in_library=n % 3 == 0,
                source="client" if n % 3 == 1 else "staff",
                client=client if n % 3 == 1 else None,
            )
            for n in range(start, start + count)
        )
        DocumentShare.objects.bulk_create(
            DocumentShare(document=document, client=client)
            for document in documents
            if document.source == "staff"
        )


def test_workspace_query_counts_stay_the_same_as_documents_grow(
    sunrise, alice_browser, bob_browser, carol_record
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    pages = ("/practice/documents/", f"/practice/clients/{carol_record.pk}/")

    def counts() -> list[int]:
        result = []
        for browser in (alice_browser, bob_browser):
            for url in pages:
                with CaptureQueriesContext(connection) as queries:
                    assert browser.get(url).status_code == 200
                result.append(len(queries))
        return result

    _library_and_uploads(sunrise, carol_record, 3, start=0)
    counts()  # the first requests create the settings row and touch the sessions
    few = counts()
    _library_and_uploads(sunrise, carol_record, 300, start=3)

    assert counts() == few
