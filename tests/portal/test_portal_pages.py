"""The client portal: landing page for everyone, home for signed-in clients."""

from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.conftest import host_client, signed_in


def test_the_landing_page_shows_the_practice_and_sign_in(sunrise_client):
    content = sunrise_client.get("/").content.decode()
    assert "Welcome to Sunrise Therapy" in content
    assert 'action="/sign-in/"' in content
    assert "Forgot your password?" in content
    assert 'name="viewport"' in content


def test_the_home_has_documents_and_billing_with_empty_states(ivan):
    browser = signed_in("harbor.localhost", ivan, url="/sign-in/")
    content = browser.get("/").content.decode()
    assert "Documents" in content and "Nothing has been shared with you yet" in content
    assert "Billing &amp; Payments" in content and "no invoices" in content
    # Harbor is on Starter: no online booking, so no Appointments section.
    assert "Appointments" not in content


def test_appointments_appear_on_the_professional_plan_once_booking_is_on(carol_browser, sunrise):
    from django_tenants.utils import schema_context

    from tenant_apps.booking.models import BookingSettings

    assert "Appointments" not in carol_browser.get("/").content.decode()
    with schema_context(sunrise.schema_name):
        BookingSettings.objects.update_or_create(singleton=True, defaults={"enabled": True})
    assert "Appointments" in carol_browser.get("/").content.decode()


def test_a_client_sees_only_their_own_name(carol_browser):
    content = carol_browser.get("/").content.decode()
    assert "Carol" in content and "Dave" not in content


def test_the_signed_in_home_runs_few_queries(carol_browser):
    carol_browser.get("/")
    with CaptureQueriesContext(connection) as queries:
        carol_browser.get("/")
    from tenant_apps.portal import registry

    sql = [q["sql"] for q in queries]
    # The session comes from the cache and the practice from the host cache.
    assert not [s for s in sql if "django_session" in s or "tenants_" in s], sql
    # What is left: the search path, the user row, and at most one query for each section and
    # each source of tasks that feature apps add to the home.
    assert len(sql) <= 2 + len(registry.SECTIONS) + len(registry.TASK_SOURCES), sql


def test_the_suspended_page_reveals_nothing_of_the_practice(sunrise):
    from tenants.models import Practice

    Practice.objects.filter(pk=sunrise.pk).update(status=Practice.Status.SUSPENDED)
    from tenants.hosts import forget_practice

    forget_practice(sunrise.pk)
    for path in ("/", "/practice/", "/sign-in/"):
        response = host_client("sunrise.localhost").get(path)
        assert response.status_code == 503
        assert b"temporarily unavailable" in response.content
        assert b"Sunrise" not in response.content
