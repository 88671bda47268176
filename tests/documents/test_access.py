"""Who may open a document. Every path that is not the client's own current share (or the
practice's owner and clinicians) is a 404 that carries no byte of the file, on the file
system and on S3 alike."""

from urllib.parse import quote

import pytest
from django_tenants.utils import schema_context

from tenant_apps.audit.models import AuditEvent
from tenant_apps.documents.models import DocumentShare
from tests.conftest import host_client, sign_in_where_sent
from tests.documents.conftest import share_with, stored_document
from tests.documents.samples import PDF, image

SECRET_PDF = PDF.replace(b"%%EOF", b"% carol-only-secret-marker\n%%EOF")


@pytest.fixture
def carols_document(store, sunrise, carol_record):
    document = stored_document(sunrise, content=SECRET_PDF, title="Care plan")
    share_with(sunrise, document, carol_record)
    return document


def _assert_not_found_without_bytes(response) -> None:
    assert response.status_code == 404
    body = b"".join(response.streaming_content) if response.streaming else response.content
    assert b"carol-only-secret-marker" not in body
    assert b"%PDF" not in body
    assert "Content-Disposition" not in response


def test_it_serves_the_client_her_document_privately(carol_browser, carols_document):
    response = carol_browser.get(f"/documents/{carols_document.pk}/view/")

    assert response.status_code == 200
    assert b"".join(response.streaming_content) == SECRET_PDF
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'inline; filename="welcome.pdf"'
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Cache-Control"] == "private, no-store"
    assert response["Content-Length"] == str(len(SECRET_PDF))


def test_download_answers_as_an_attachment(carol_browser, carols_document):
    response = carol_browser.get(f"/documents/{carols_document.pk}/download/")

    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="welcome.pdf"'
    assert b"".join(response.streaming_content) == SECRET_PDF


def test_types_that_do_not_preview_are_downloaded_even_from_the_view_url(
    store, sunrise, carol_record, carol_browser
):
    document = stored_document(
        sunrise, content=b"plain words\n", kind="text", original_name="notes.txt"
    )
    share_with(sunrise, document, carol_record)

    response = carol_browser.get(f"/documents/{document.pk}/view/")

    assert response["Content-Disposition"] == 'attachment; filename="notes.txt"'
    assert response["Content-Type"] == "text/plain; charset=utf-8"


def test_another_client_gets_404(dave_record, dave_browser, carols_document):
    for action in ("view", "download"):
        _assert_not_found_without_bytes(
            dave_browser.get(f"/documents/{carols_document.pk}/{action}/")
        )


def test_another_practice_gets_404_for_the_same_id(ivan_browser, hana_browser, carols_document):
    for browser, prefix in ((ivan_browser, ""), (hana_browser, "/practice")):
        for action in ("view", "download"):
            url = f"{prefix}/documents/{carols_document.pk}/{action}/"
            _assert_not_found_without_bytes(browser.get(url))


def test_an_unshared_document_gets_404(store, sunrise, carol_record, carol_browser):
    library_only = stored_document(sunrise, content=SECRET_PDF, in_library=True)

    _assert_not_found_without_bytes(carol_browser.get(f"/documents/{library_only.pk}/view/"))


def test_unsharing_revokes_access_at_once(alice_browser, carol_browser, carols_document, sunrise):
    with schema_context(sunrise.schema_name):
        share = DocumentShare.objects.get(document=carols_document)
    assert carol_browser.get(f"/documents/{carols_document.pk}/view/").status_code == 200

    response = alice_browser.post(f"/practice/documents/shares/{share.pk}/unshare/")

    assert response.status_code == 302
    _assert_not_found_without_bytes(carol_browser.get(f"/documents/{carols_document.pk}/view/"))
    _assert_not_found_without_bytes(carol_browser.get(f"/documents/{carols_document.pk}/download/"))
    assert b"Care plan" not in carol_browser.get("/documents/").content


def test_a_guessed_storage_path_gets_404(carol_browser, alice_browser, carols_document):
    key = carols_document.storage_key
    for browser in (carol_browser, alice_browser, host_client("sunrise.localhost")):
        for url in (f"/{key}", f"/media/{key}", f"/documents/{key}", f"/practice/documents/{key}/"):
            _assert_not_found_without_bytes(browser.get(url))


def _assert_sent_to_sign_in_without_bytes(response, sign_in: str, url: str) -> None:
    assert response.status_code == 302
    assert response["Location"] == f"{sign_in}?next={quote(url)}"
    assert b"carol-only-secret-marker" not in response.content and b"%PDF" not in response.content
    assert "Content-Disposition" not in response


def test_an_anonymous_visitor_is_sent_to_sign_in_for_any_id(carols_document):
    anonymous = host_client("sunrise.localhost")
    for pk in (carols_document.pk, 999_999):
        for action in ("view", "download"):
            url = f"/documents/{pk}/{action}/"
            _assert_sent_to_sign_in_without_bytes(anonymous.get(url), "/sign-in/", url)
            url = f"/practice/documents/{pk}/{action}/"
            _assert_sent_to_sign_in_without_bytes(anonymous.get(url), "/practice/sign-in/", url)


def test_after_signing_in_the_client_gets_her_document(carol, carols_document):
    browser = host_client("sunrise.localhost")
    sent = browser.get(f"/documents/{carols_document.pk}/download/")

    response = sign_in_where_sent(browser, sent, carol)

    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="welcome.pdf"'
    assert b"".join(response.streaming_content) == SECRET_PDF


def test_after_signing_in_another_client_still_gets_404(dave, dave_record, carols_document):
    browser = host_client("sunrise.localhost")
    sent = browser.get(f"/documents/{carols_document.pk}/download/")

    _assert_not_found_without_bytes(sign_in_where_sent(browser, sent, dave))


def test_after_signing_in_staff_get_the_document_only_if_it_is_theirs_to_see(
    alice, biller, carols_document
):
    url = f"/practice/documents/{carols_document.pk}/download/"
    browser = host_client("sunrise.localhost")
    response = sign_in_where_sent(browser, browser.get(url), alice)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == SECRET_PDF

    browser = host_client("sunrise.localhost")
    _assert_not_found_without_bytes(sign_in_where_sent(browser, browser.get(url), biller))


def test_staff_are_not_clients_and_clients_are_not_staff(
    alice_browser, carol_browser, carols_document
):
    _assert_not_found_without_bytes(alice_browser.get(f"/documents/{carols_document.pk}/view/"))
    _assert_not_found_without_bytes(
        carol_browser.get(f"/practice/documents/{carols_document.pk}/view/")
    )


def test_billers_do_not_see_clinical_documents(biller_browser, carols_document, carol_record):
    _assert_not_found_without_bytes(
        biller_browser.get(f"/practice/documents/{carols_document.pk}/download/")
    )
    assert biller_browser.get("/practice/documents/").status_code == 403
    assert biller_browser.get(f"/practice/documents/{carols_document.pk}/").status_code == 403
    page = biller_browser.get(f"/practice/clients/{carol_record.pk}/").content
    assert b"Care plan" not in page and b"documents-panel-heading" not in page


def test_a_clinician_opens_only_documents_of_their_own_clients(
    store, sunrise, bob_browser, carols_document, dave_record
):
    daves = stored_document(sunrise, content=SECRET_PDF, title="Dave's plan")
    share_with(sunrise, daves, dave_record)

    assert bob_browser.get(f"/practice/documents/{carols_document.pk}/view/").status_code == 200
    _assert_not_found_without_bytes(bob_browser.get(f"/practice/documents/{daves.pk}/view/"))
    assert bob_browser.get(f"/practice/documents/{daves.pk}/").status_code == 404


def test_ids_that_are_not_numbers_get_404(carol_browser, carols_document):
    _assert_not_found_without_bytes(carol_browser.get("/documents/1%20OR%201=1/view/"))


def test_every_view_and_download_is_audited_and_the_first_ones_remembered(
    carol_browser, alice_browser, alice, carol, carols_document, sunrise
):
    carol_browser.get(f"/documents/{carols_document.pk}/view/")
    carol_browser.get(f"/documents/{carols_document.pk}/view/")
    carol_browser.get(f"/documents/{carols_document.pk}/download/")
    alice_browser.get(f"/practice/documents/{carols_document.pk}/download/")

    with schema_context(sunrise.schema_name):
        events = list(
            AuditEvent.objects.filter(object_id=str(carols_document.pk))
            .order_by("id")
            .values_list("action", "actor_id")
        )
        share = DocumentShare.objects.get(document=carols_document)
    assert [e for e in events if e[0] in ("document.viewed", "document.downloaded")] == [
        ("document.viewed", carol.pk),
        ("document.viewed", carol.pk),
        ("document.downloaded", carol.pk),
        ("document.downloaded", alice.pk),
    ]
    assert share.first_viewed_at is not None and share.first_downloaded_at is not None
    assert share.first_viewed_at <= share.first_downloaded_at


def test_images_preview_inline(store, sunrise, carol_record, carol_browser):
    png = image("PNG")
    document = stored_document(sunrise, content=png, kind="png", original_name="card.png")
    share_with(sunrise, document, carol_record)

    response = carol_browser.get(f"/documents/{document.pk}/view/")

    assert response["Content-Type"] == "image/png"
    assert response["Content-Disposition"].startswith("inline")
    assert b"".join(response.streaming_content) == png
