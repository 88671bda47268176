"""Uploading: what is accepted, what is refused with a clear message, and that a refused or
failed upload leaves no stored object and no row — on the file system and on S3 alike."""

import json

import pytest
from django.core import mail
from django_tenants.utils import schema_context

from tenant_apps.audit.models import AuditEvent
from tenant_apps.documents import services
from tenant_apps.documents.files import UnacceptableFile
from tenant_apps.documents.models import Document, DocumentSettings, DocumentShare
from tests.documents.samples import EXECUTABLE, PDF, raw_multipart, upload

SHARE_URL = "/practice/documents/share/"


def _rows(practice) -> tuple[int, int, int]:
    with schema_context(practice.schema_name):
        return (
            Document.objects.count(),
            DocumentShare.objects.count(),
            AuditEvent.objects.filter(action="document.uploaded").count(),
        )


def _share(browser, client_record, *files, **extra):
    data = {"title": "", "message": "", "clients": [client_record.pk], "uploads": list(files)}
    data.update(extra)
    return browser.post(f"{SHARE_URL}?client={client_record.pk}", data)


def test_a_clinician_uploads_and_shares_a_file_with_a_client(
    store, sunrise, alice_browser, carol_record
):
    response = _share(
        alice_browser,
        carol_record,
        upload("Care plan (final).pdf", PDF),
        title="Your care plan",
        message="Read before Tuesday.",
    )

    assert response.status_code == 302
    assert response["Location"] == f"/practice/clients/{carol_record.pk}/"
    with schema_context(sunrise.schema_name):
        document = Document.objects.get()
        share = DocumentShare.objects.get()
    assert (document.title, document.original_name, document.kind, document.size) == (
        "Your care plan",
        "Care plan (final).pdf",
        "pdf",
        len(PDF),
    )
    assert (share.client_id, share.message, share.is_new) == (
        carol_record.pk,
        "Read before Tuesday.",
        True,
    )
    # A per-practice prefix and a random name: the original name is metadata only.
    assert store.keys() == [document.storage_key]
    assert document.storage_key.startswith(f"{sunrise.schema_name}/documents/")
    assert "Care" not in document.storage_key


def test_the_client_is_told_by_email_that_something_is_waiting_and_nothing_more(
    store, alice_browser, carol_record, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        _share(
            alice_browser,
            carol_record,
            upload("trauma-notes.pdf", PDF),
            title="Trauma notes",
            message="Private words",
        )

    (email,) = mail.outbox
    assert email.to == [carol_record.email]
    assert "http://sunrise.localhost" in email.body and "/documents/" in email.body
    for secret in ("Trauma", "trauma", "Private words", "pdf"):
        assert secret not in email.subject + email.body


OVERSIZE_LIMIT = 1000


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("big.pdf", PDF + b"%" * OVERSIZE_LIMIT, "files can be at most"),
        ("letter.pdf", EXECUTABLE, "This type of file can&#x27;t be shared"),
        ("empty.pdf", b"", "This file is empty"),
        ("broken.pdf", PDF.replace(b"%%EOF", b""), "damaged or incomplete"),
    ],
    ids=["oversize", "disguised-program", "empty", "corrupt"],
)
def test_a_refused_upload_says_why_and_leaves_nothing_behind(
    store, settings, sunrise, alice_browser, carol_record, name, content, message
):
    settings.DOCUMENTS_MAX_FILE_BYTES = OVERSIZE_LIMIT

    response = _share(alice_browser, carol_record, upload(name, content))

    assert response.status_code == 200
    assert message in response.content.decode()
    assert store.keys() == []
    assert _rows(sunrise) == (0, 0, 0)


def _share_raw(browser, client_record, filename: str, content: bytes):
    body, content_type = raw_multipart(
        {"clients": str(client_record.pk)}, [("uploads", filename, content)]
    )
    return browser.post(f"{SHARE_URL}?client={client_record.pk}", body, content_type=content_type)


@pytest.mark.parametrize("name", ["../../", "..\\..\\", "/", "\x00\x07"])
def test_a_name_that_is_only_a_path_is_refused_and_leaves_nothing_behind(
    store, sunrise, alice_browser, carol_record, name
):
    response = _share_raw(alice_browser, carol_record, name, PDF)

    assert response.status_code == 200
    assert "Choose at least one file" in response.content.decode()
    assert store.keys() == []
    assert _rows(sunrise) == (0, 0, 0)


def test_a_name_with_nothing_left_after_cleaning_is_refused_by_the_check_itself():
    with pytest.raises(UnacceptableFile, match="no usable name"):
        services.check_upload(upload("\u200b\u200e", PDF))


@pytest.mark.parametrize(
    ("name", "kept"),
    [
        ("../../../etc/cron.d/evil.pdf", "evil.pdf"),
        ("..\\..\\windows\\evil.pdf", "evil.pdf"),
        ("C:evil.pdf", "C_evil.pdf"),
        ("\u202eevil\u202dfdp.exe", "evilfdp.pdf"),
        ("x" * 300 + ".pdf", "x" * 116 + ".pdf"),
    ],
    ids=["dot-dot-slash", "backslashes", "drive-letter", "bidi-override", "very-long"],
)
def test_a_traversal_name_is_reduced_to_a_clean_name_and_stored_under_a_random_key(
    store, sunrise, alice_browser, carol_record, tmp_path, name, kept
):
    response = _share_raw(alice_browser, carol_record, name, PDF)

    assert response.status_code == 302
    with schema_context(sunrise.schema_name):
        document = Document.objects.get()
    assert document.original_name == kept
    assert store.keys() == [document.storage_key]
    assert document.storage_key.startswith(f"{sunrise.schema_name}/documents/")
    assert not (tmp_path / "etc").exists() and not (tmp_path / "windows").exists()


def test_one_bad_file_in_a_batch_stores_none_of_them(store, sunrise, alice_browser, carol_record):
    response = _share(
        alice_browser,
        carol_record,
        upload("good.pdf", PDF),
        upload("bad.pdf", EXECUTABLE),
    )

    assert "bad.pdf: This type of file" in response.content.decode()
    assert store.keys() == []
    assert _rows(sunrise) == (0, 0, 0)


def test_an_upload_over_the_practice_quota_is_refused_whole(
    store, sunrise, alice_browser, carol_record
):
    with schema_context(sunrise.schema_name):
        DocumentSettings.objects.update_or_create(pk=1, defaults={"quota_bytes": len(PDF) + 10})

    response = _share(alice_browser, carol_record, upload("a.pdf", PDF), upload("b.pdf", PDF))

    assert "document storage is full" in response.content.decode()
    assert store.keys() == []
    assert _rows(sunrise) == (0, 0, 0)


def test_a_failure_after_the_bytes_were_stored_removes_them_again(
    store, sunrise, alice, carol_record, monkeypatch
):
    def broken_share(*args, **kwargs):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(services, "_share", broken_share)
    checked = [services.check_upload(upload(f"{n}.pdf", PDF)) for n in range(3)]

    with schema_context(sunrise.schema_name), pytest.raises(RuntimeError):
        services.share_new_files(checked, actor=alice, clients=[carol_record])

    assert store.keys() == []
    assert _rows(sunrise) == (0, 0, 0)


def test_several_files_are_shared_with_several_clients(
    sunrise, alice_browser, carol_record, dave_record
):
    response = alice_browser.post(
        SHARE_URL,
        {
            "uploads": [upload("one.pdf", PDF), upload("two.txt", b"hello\n")],
            "title": "Homework",
            "clients": [carol_record.pk, dave_record.pk],
            "keep_in_library": "on",
        },
    )

    assert response.status_code == 302
    with schema_context(sunrise.schema_name):
        titles = sorted(Document.objects.values_list("title", "in_library"))
        assert DocumentShare.objects.count() == 4
    assert titles == [("Homework — one", True), ("Homework — two", True)]


def test_the_progress_bar_upload_gets_json_answers(alice_browser, carol_record):
    ok = alice_browser.post(
        f"{SHARE_URL}?client={carol_record.pk}",
        {"uploads": [upload("a.pdf", PDF)], "clients": [carol_record.pk]},
        headers={"Accept": "application/json"},
    )
    refused = alice_browser.post(
        f"{SHARE_URL}?client={carol_record.pk}",
        {"uploads": [upload("a.pdf", b"")], "clients": [carol_record.pk]},
        headers={"Accept": "application/json"},
    )

    assert json.loads(ok.content) == {
        "ok": True,
        "redirect": f"/practice/clients/{carol_record.pk}/",
    }
    assert refused.status_code == 400
    errors = json.loads(refused.content)["errors"]
    assert errors["uploads"][0]["message"] == "a.pdf: This file is empty."


def test_nothing_is_stored_without_a_recipient_or_the_library(sunrise, alice_browser):
    response = alice_browser.post(SHARE_URL, {"uploads": [upload("a.pdf", PDF)]})

    assert "Choose who to share with" in response.content.decode()
    assert _rows(sunrise) == (0, 0, 0)


def test_a_clinician_cannot_share_with_someone_elses_client(
    sunrise, bob_browser, dave_record, carol_record
):
    response = bob_browser.post(
        SHARE_URL, {"uploads": [upload("a.pdf", PDF)], "clients": [dave_record.pk]}
    )

    assert response.status_code == 200
    assert _rows(sunrise) == (0, 0, 0)
    assert bob_browser.get(f"{SHARE_URL}?client={dave_record.pk}").status_code == 404


def test_the_share_page_of_another_practice_knows_nothing_of_this_client(
    hana_browser, carol_record
):
    assert hana_browser.get(f"{SHARE_URL}?client={carol_record.pk}").status_code == 404
