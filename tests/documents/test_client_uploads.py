"""Clients send files to the practice when it allows it; staff see them as new."""

from django_tenants.utils import schema_context

from tenant_apps.documents.models import Document
from tests.documents.samples import EXECUTABLE, image, upload

UPLOAD_URL = "/documents/upload/"


def test_clients_cannot_upload_until_the_practice_allows_it(
    store, sunrise, carol_browser, carol_record
):
    assert b"Send files to" not in carol_browser.get("/documents/").content

    response = carol_browser.post(
        UPLOAD_URL, {"uploads": [upload("card.png", image("PNG"))]}, follow=True
    )

    assert "does not accept files" in response.content.decode()
    assert store.keys() == []
    with schema_context(sunrise.schema_name):
        assert not Document.objects.exists()


def test_a_client_sends_an_insurance_card_and_staff_see_it_as_new(
    store, sunrise, allow_client_uploads, carol_browser, carol_record, alice_browser, bob_browser
):
    page = carol_browser.get("/documents/").content.decode()
    assert "Send files to Sunrise Therapy" in page

    response = carol_browser.post(
        UPLOAD_URL, {"uploads": [upload("IMG_0042.png", image("PNG"))], "title": "Insurance card"}
    )

    assert response.status_code == 302
    with schema_context(sunrise.schema_name):
        document = Document.objects.get()
    assert (document.source, document.client_id, document.title) == (
        "client",
        carol_record.pk,
        "Insurance card",
    )
    assert store.keys() == [document.storage_key]
    assert "Insurance card" in carol_browser.get("/documents/").content.decode()

    library = alice_browser.get("/practice/documents/").content.decode()
    client_page = bob_browser.get(f"/practice/clients/{carol_record.pk}/").content.decode()
    assert 'data-unseen-count="1"' in library and "Insurance card" in library
    assert 'data-unseen-count="1"' in client_page

    opened = bob_browser.get(f"/practice/documents/{document.pk}/view/")
    assert opened.status_code == 200
    assert "data-unseen-count" not in alice_browser.get("/practice/documents/").content.decode()


def test_staff_can_mark_a_client_file_seen_without_opening_it(
    sunrise, allow_client_uploads, carol_record, carol_browser, alice_browser
):
    carol_browser.post(UPLOAD_URL, {"uploads": [upload("letter.txt", b"referral\n")]})
    with schema_context(sunrise.schema_name):
        document = Document.objects.get()

    alice_browser.post(f"/practice/documents/{document.pk}/seen/")

    with schema_context(sunrise.schema_name):
        document.refresh_from_db()
    assert document.staff_seen_at is not None


def test_a_refused_client_upload_says_why_and_leaves_nothing(
    store, sunrise, allow_client_uploads, carol_record, carol_browser
):
    response = carol_browser.post(
        UPLOAD_URL, {"uploads": [upload("photo.jpg", EXECUTABLE)]}, follow=True
    )

    assert "This type of file can&#x27;t be shared" in response.content.decode()
    assert store.keys() == []
    with schema_context(sunrise.schema_name):
        assert not Document.objects.exists()


def test_another_client_cannot_open_a_clients_upload(
    sunrise,
    allow_client_uploads,
    carol_record,
    carol_browser,
    dave_record,
    dave_browser,
    harbor,
    ivan_browser,
):
    carol_browser.post(UPLOAD_URL, {"uploads": [upload("letter.txt", b"referral\n")]})
    with schema_context(sunrise.schema_name):
        document = Document.objects.get()

    assert carol_browser.get(f"/documents/{document.pk}/download/").status_code == 200
    assert dave_browser.get(f"/documents/{document.pk}/download/").status_code == 404
    assert ivan_browser.get(f"/documents/{document.pk}/download/").status_code == 404


def test_harbor_does_not_see_sunrise_client_uploads(
    sunrise, allow_client_uploads, carol_record, carol_browser, hana_browser
):
    response = carol_browser.post(
        UPLOAD_URL, {"uploads": [upload("letter.txt", b"referral\n")], "title": "Referral xyz"}
    )
    assert response.status_code == 302

    page = hana_browser.get("/practice/documents/").content.decode()
    assert "Referral xyz" not in page and "data-unseen-count" not in page
