"""In production on S3, a download may answer with a redirect to a URL signed for at most
60 seconds, after the same checks as a streamed download."""

import urllib.error
import urllib.request
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.conftest import host_client
from tests.documents.conftest import _s3_store, share_with, stored_document
from tests.documents.samples import PDF


@pytest.fixture
def signed_s3(settings, s3_endpoint):
    store = _s3_store(settings, s3_endpoint)
    settings.DOCUMENTS_SIGNED_URLS = True
    return store


def test_the_client_is_sent_to_a_short_lived_signed_url(
    signed_s3, sunrise, carol_record, carol_browser
):
    document = stored_document(sunrise, original_name="trauma-notes.pdf")
    share_with(sunrise, document, carol_record)

    response = carol_browser.get(f"/documents/{document.pk}/download/")

    assert response.status_code == 302
    assert response["Cache-Control"] == "private, no-store"
    location = response["Location"]
    query = parse_qs(urlsplit(location).query)
    assert query["X-Amz-Expires"] == ["60"]
    assert "trauma" not in location
    with urllib.request.urlopen(location, timeout=10) as fetched:  # loopback moto server
        assert fetched.read() == PDF
        assert fetched.headers["Content-Disposition"] == (
            f'attachment; filename="document-{document.pk}.pdf"'
        )
        assert fetched.headers["Content-Type"] == "application/pdf"


def test_the_bucket_itself_answers_nothing_without_a_signature(
    signed_s3, s3_endpoint, sunrise, settings
):
    document = stored_document(sunrise)
    url = f"{s3_endpoint}/{settings.DOCUMENTS_S3_BUCKET}/{document.storage_key}"

    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(url, timeout=10)  # loopback moto server
    assert refused.value.code == 403


def test_nobody_else_gets_a_signed_url(signed_s3, sunrise, carol_record, dave_record, dave_browser):
    document = stored_document(sunrise)
    share_with(sunrise, document, carol_record)

    response = dave_browser.get(f"/documents/{document.pk}/download/")
    assert response.status_code == 404 and "Location" not in response
    # Not signed in: to the sign-in page, which brings the visitor back here afterwards.
    response = host_client("sunrise.localhost").get(f"/documents/{document.pk}/download/")
    assert response.status_code == 302
    assert response["Location"].startswith("/sign-in/?next=")
