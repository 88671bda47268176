"""The operator console on the platform host."""

import pytest
from django.core import mail

from tenant_apps.accounts.models import User
from tenant_apps.audit.models import AuditEvent
from tenants.models import Practice
from tests.conftest import host_client

CONSOLE = "/operator/"
PRACTICES = "/operator/tenants/practice/"


@pytest.fixture
def operator(db):
    return User.objects.create_superuser("ops@platform.test", "operator-pass-2026", full_name="Ops")


@pytest.fixture
def console(operator):
    browser = host_client("localhost")
    response = browser.post(
        "/operator/login/?next=/operator/",
        {"username": "ops@platform.test", "password": "operator-pass-2026"},
    )
    assert response.status_code == 302
    return browser


def test_it_lists_practices_with_plan_slug_lock_state_and_date(console, sunrise, harbor):
    content = console.get(PRACTICES).content.decode()
    for text in (
        "Sunrise Therapy",
        "Harbor Counseling",
        "sunrise.localhost",
        "Professional",
        "Starter",
    ):
        assert text in content


def test_it_searches_practices_by_name_and_address(console, sunrise, harbor):
    content = console.get(PRACTICES, {"q": "harbor"}).content.decode()
    assert "Harbor Counseling" in content and "Sunrise Therapy" not in content


def test_the_practice_list_runs_a_constant_number_of_queries(
    console, sunrise, harbor, django_assert_max_num_queries
):
    with django_assert_max_num_queries(12):
        console.get(PRACTICES)


def test_it_provisions_a_practice_from_the_console(console, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = console.post(
            f"{PRACTICES}add/",
            {
                "name": "Maple Counseling",
                "slug": "maple",
                "owner_email": "owner@maple.test",
                "owner_name": "Mona Maple",
                "plan": Practice.objects.get(domains__domain="sunrise.localhost").plan_id,
                "time_zone": "America/Toronto",
            },
        )
    assert response.status_code == 302
    maple = Practice.objects.get(domains__domain="maple.localhost")
    assert maple.time_zone == "America/Toronto"
    assert [m.to for m in mail.outbox] == [["owner@maple.test"]]
    assert AuditEvent.objects.filter(action="practice.provisioned").exists()


def test_a_provisioning_form_sent_twice_makes_one_practice_and_says_so_twice(
    console, sunrise, django_capture_on_commit_callbacks
):
    form = {
        "name": "Maple Counseling",
        "slug": "maple",
        "owner_email": "owner@maple.test",
        "plan": sunrise.plan_id,
        "time_zone": "America/Toronto",
    }
    with django_capture_on_commit_callbacks(execute=True):
        first = console.post(f"{PRACTICES}add/", form)
        second = console.post(f"{PRACTICES}add/", form, follow=True)

    assert first.status_code == 302
    assert "Provisioned Maple Counseling" in second.content.decode()
    assert "already taken" not in second.content.decode()
    assert Practice.objects.filter(domains__domain="maple.localhost").count() == 1
    assert [m.to for m in mail.outbox] == [["owner@maple.test"]]


def test_provisioning_a_taken_slug_shows_the_reason(console, sunrise):
    response = console.post(
        f"{PRACTICES}add/",
        {
            "name": "Dup",
            "slug": "sunrise",
            "owner_email": "o@d.test",
            "plan": sunrise.plan_id,
            "time_zone": "UTC",
        },
    )
    assert response.status_code == 200
    assert b"already taken" in response.content


def test_suspending_answers_503_and_restoring_brings_it_back(console, sunrise):
    console.post(PRACTICES, {"action": "suspend", "_selected_action": [sunrise.pk]})
    assert host_client("sunrise.localhost").get("/").status_code == 503
    console.post(PRACTICES, {"action": "restore", "_selected_action": [sunrise.pk]})
    assert host_client("sunrise.localhost").get("/").status_code == 200
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"practice.suspended", "practice.active"} <= actions


def test_the_console_says_what_an_action_changed_and_what_it_left(console, sunrise, harbor):
    console.post(PRACTICES, {"action": "suspend", "_selected_action": [harbor.pk]})

    response = console.post(
        PRACTICES, {"action": "restore", "_selected_action": [sunrise.pk, harbor.pk]}, follow=True
    )

    text = response.content.decode()
    assert "Restored 1 practice(s)." in text
    assert "1 practice(s) left as they were: nothing to do." in text
    assert AuditEvent.objects.filter(action="practice.active").count() == 1

    unlocked = console.post(
        PRACTICES, {"action": "unlock_portal_url", "_selected_action": [sunrise.pk]}, follow=True
    ).content.decode()
    assert "Unlocked" not in unlocked
    assert "1 practice(s) left as they were: nothing to do." in unlocked
    assert not AuditEvent.objects.filter(action="portal.unlocked").exists()


def test_changing_the_plan_turns_booking_on_at_once(console, harbor, sunrise, ivan):
    assert not harbor.booking_available
    response = console.post(
        f"{PRACTICES}{harbor.pk}/change/",
        {
            "plan": sunrise.plan_id,
            "status": "active",
            "domains-TOTAL_FORMS": "0",
            "domains-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302, response.content[:2000]
    harbor.refresh_from_db()
    assert harbor.booking_available
    from tests.conftest import signed_in

    browser = signed_in("harbor.localhost", ivan, url="/sign-in/")
    # The plan makes booking available; the practice still switches it on itself.
    from django_tenants.utils import schema_context

    from tenant_apps.booking.models import BookingSettings

    with schema_context(harbor.schema_name):
        BookingSettings.objects.update_or_create(singleton=True, defaults={"enabled": True})
    assert b"Appointments" in browser.get("/").content
    assert AuditEvent.objects.filter(action="practice.plan_changed").exists()


def test_the_console_unlocks_a_locked_portal_address(console, sunrise, alice):
    from tenants.services import lock_portal_url

    lock_portal_url(sunrise, actor=alice, slug="sunrise")
    console.post(PRACTICES, {"action": "unlock_portal_url", "_selected_action": [sunrise.pk]})
    sunrise.refresh_from_db()
    assert not sunrise.is_portal_locked


def test_practice_staff_cannot_use_the_console(alice):
    browser = host_client("localhost")
    response = browser.post(
        "/operator/login/?next=/operator/",
        {"username": alice.email, "password": "correct-horse-battery-staple"},
    )
    assert response.status_code == 200
    assert browser.get(PRACTICES).status_code == 302


def test_the_console_is_not_served_on_a_practice_host(sunrise_client, operator):
    assert sunrise_client.get(CONSOLE).status_code == 404


def test_anonymous_visitors_are_sent_to_the_console_sign_in(platform_client):
    response = platform_client.get(PRACTICES)
    assert response.status_code == 302
    assert "/operator/login/" in response["Location"]
