"""Signed-in users come from the cache (tenant_apps/accounts/user_cache.py): no query on a
repeat request, and every change to the user is seen on the very next one."""

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import schema_context

from tenant_apps.accounts import user_cache
from tenant_apps.accounts.models import User
from tenant_apps.clients import services as client_services
from tenant_apps.clients.models import Client


def assert_signed_out(browser) -> None:
    page = browser.get("/").content.decode()
    assert "Hello, Carol" not in page and "Sign in" in page


def test_a_repeat_request_of_a_signed_in_client_runs_no_query(carol_record, carol_browser):
    carol_browser.get("/")

    with CaptureQueriesContext(connection) as queries:
        response = carol_browser.get("/")

    assert response.status_code == 200 and "Hello, Carol" in response.content.decode()
    assert [query["sql"] for query in queries] == []


def test_a_password_changed_elsewhere_signs_the_other_sessions_out_at_once(
    sunrise, carol, carol_browser
):
    assert carol_browser.get("/").status_code == 200

    with schema_context(sunrise.schema_name):
        user = User.objects.get(pk=carol.pk)
        user.set_password("a completely new passphrase")
        user.save()

    assert_signed_out(carol_browser)


def test_revoking_a_clients_access_signs_them_out_at_once(
    sunrise, alice, carol_record, carol_browser
):
    """Revoking deactivates the account with QuerySet.update(), which sends no signal."""
    assert carol_browser.get("/").status_code == 200

    with schema_context(sunrise.schema_name):
        client_services.revoke_invitation(Client.objects.get(pk=carol_record.pk), actor=alice)

    assert_signed_out(carol_browser)


def test_an_email_changed_on_the_client_record_is_the_users_at_once(
    sunrise, alice, carol_record, carol_browser
):
    carol_browser.get("/")

    with schema_context(sunrise.schema_name):
        record = Client.objects.get(pk=carol_record.pk)
        record.email = "carol.new@client.test"
        client_services.save_client(record, actor=alice, changed=["email"])

    with schema_context(sunrise.schema_name):
        seen = user_cache.cached_user(
            carol_record.user_id, lambda: User.objects.get(pk=carol_record.user_id)
        )
    assert seen.email == "carol.new@client.test"


def test_a_row_read_before_a_change_is_never_taken_for_current(sunrise, carol):
    """A request that loaded the user just before another one changed it must not leave the
    old row behind as current."""
    loads: list[str] = []

    def load_and_change_meanwhile() -> User:
        user = User.objects.get(pk=carol.pk)
        loads.append(user.full_name)
        if len(loads) == 1:
            # Another request renames the user after this one read the row.
            User.objects.filter(pk=carol.pk).update(full_name="Carol Renamed")
            user_cache.forget_user(carol.pk)
        return user

    with schema_context(sunrise.schema_name):
        first = user_cache.cached_user(carol.pk, load_and_change_meanwhile)
        second = user_cache.cached_user(carol.pk, load_and_change_meanwhile)
        third = user_cache.cached_user(carol.pk, load_and_change_meanwhile)

    assert first.full_name != "Carol Renamed"
    assert second.full_name == "Carol Renamed" and third.full_name == "Carol Renamed"
    assert len(loads) == 2, "the stale row was served from the cache, or the fresh one was not"


def test_the_same_user_id_in_another_practice_is_another_person(sunrise, harbor, carol):
    with schema_context(sunrise.schema_name):
        assert user_cache.cached_user(carol.pk, lambda: User.objects.get(pk=carol.pk)) == carol

    with schema_context(harbor.schema_name):
        other = User.objects.filter(pk=carol.pk).first()
        seen = user_cache.cached_user(carol.pk, lambda: other)

    assert seen is None or seen.email != carol.email
    assert seen == other
