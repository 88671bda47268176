"""The portal home's cached parts: cheap on a repeat visit, current after every change."""

import redis
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import schema_context

from tenant_apps.documents import services as document_services
from tenant_apps.documents.models import DocumentShare
from tests.documents.conftest import share_with, stored_document
from tests.intake.conftest import send


def home(browser) -> str:
    response = browser.get("/")
    assert response.status_code == 200
    return response.content.decode()


def test_a_repeat_visit_reads_only_the_signed_in_user(sunrise, carol_record, carol_browser):
    share_with(sunrise, stored_document(sunrise), carol_record)
    home(carol_browser)

    with CaptureQueriesContext(connection) as queries:
        page = home(carol_browser)

    sql = [query["sql"] for query in queries]
    assert [s for s in sql if not s.startswith("SET search_path")] == [
        s for s in sql if '"accounts_user"' in s
    ], sql
    assert len(sql) <= 2, sql
    assert "Welcome letter" in page


def test_a_form_sent_after_a_visit_is_waiting_at_once(
    sunrise, bob, carol_record, carol_browser, library
):
    assert "Waiting for you" not in home(carol_browser)

    send(sunrise, carol_record, bob, ["phq9"], library)

    page = home(carol_browser)
    assert "Waiting for you" in page and "Complete: " in page


def test_a_document_shared_after_a_visit_shows_at_once(sunrise, carol_record, carol_browser):
    assert "Nothing has been shared with you yet" in home(carol_browser)

    share_with(sunrise, stored_document(sunrise, title="Care plan"), carol_record)

    assert "Care plan" in home(carol_browser)


def test_opening_a_document_clears_its_new_mark_at_once(sunrise, carol_record, carol_browser):
    document = stored_document(sunrise)
    share_with(sunrise, document, carol_record)
    assert 'data-new-documents="1"' in home(carol_browser)

    carol_browser.get(f"/documents/{document.pk}/download/")

    assert "data-new-documents" not in home(carol_browser)


def test_an_unshared_document_disappears_at_once(sunrise, alice, carol_record, carol_browser):
    share = share_with(sunrise, stored_document(sunrise, title="Care plan"), carol_record)
    assert "Care plan" in home(carol_browser)

    with schema_context(sunrise.schema_name):
        document_services.unshare(DocumentShare.objects.get(pk=share.pk), actor=alice)

    assert "Care plan" not in home(carol_browser)


def test_the_other_client_never_sees_a_cached_home(
    sunrise, carol_record, dave_record, carol_browser, dave_browser
):
    share_with(sunrise, stored_document(sunrise, title="Care plan"), carol_record)
    assert "Care plan" in home(carol_browser)

    page = home(dave_browser)

    assert "Care plan" not in page and "Carol" not in page
    assert "Nothing has been shared with you yet" in page


def test_the_other_practice_keeps_its_cached_homes_apart(
    sunrise, harbor, carol_record, ivan_record, carol_browser, ivan_browser
):
    share_with(sunrise, stored_document(sunrise, title="Care plan"), carol_record)
    home(carol_browser)

    page = home(ivan_browser)

    assert "Care plan" not in page
    keys = [key.decode() for key in cache._cache.get_client().scan_iter("*portal:home*")]
    schemas = {key.split(":", 1)[0] for key in keys}
    assert schemas == {sunrise.schema_name, harbor.schema_name}, keys


def test_the_home_reads_each_practice_setting_once(carol_record, carol_browser):
    home(carol_browser)
    original = redis.Redis.execute_command
    keys: list[str] = []

    def recording(self, *args, **options):
        keys.extend(str(arg) for arg in args[1:])
        return original(self, *args, **options)

    redis.Redis.execute_command = recording
    try:
        home(carol_browser)
    finally:
        redis.Redis.execute_command = original

    assert len([key for key in keys if key.endswith(":booking:settings")]) == 1, keys
    assert len([key for key in keys if key.endswith(":payments:stripe-account-status")]) == 1
