"""The plan and the practice's switch are enforced by the server on every booking URL."""

import pytest
from django_tenants.utils import schema_context

from tenant_apps.booking.models import Appointment, BookingSettings
from tenants.hosts import forget_practice
from tenants.models import Practice
from tests.conftest import host_client

START = "2026-02-03T14:00:00Z"  # Tuesday 9:00 in New York

PORTAL_GETS = [
    "/appointments/",
    "/appointments/new/",
    "/appointments/new/1/",
    "/appointments/new/1/1/",
    "/appointments/new/1/1/confirm/?start=" + START,
    "/appointments/1/",
    "/book/",
    "/book/1/1/",
]
PORTAL_POSTS = [
    "/appointments/new/1/1/confirm/",
    "/appointments/1/cancel/",
    "/book/1/1/confirm/",
]
STAFF_GETS = [
    "/practice/calendar/",
    "/practice/calendar/new/",
    "/practice/appointments/1/",
    "/practice/settings/online-booking/services/new/",
    "/practice/settings/online-booking/hours/1/",
]
STAFF_POSTS = [
    "/practice/settings/online-booking/",
    "/practice/settings/online-booking/services/new/",
    "/practice/calendar/new/",
    "/practice/appointments/1/decide/",
    "/practice/appointments/1/cancel/",
    "/practice/appointments/1/move/",
]


@pytest.mark.parametrize("url", PORTAL_POSTS)
def test_a_starter_practice_refuses_a_direct_booking_post_with_403(harbor, ivan_browser, url):
    response = ivan_browser.post(url, {"start": START, "first_name": "A", "last_name": "B"})
    assert response.status_code == 403
    assert b"plan doesn't include online booking" in response.content
    with schema_context(harbor.schema_name):
        assert not Appointment.objects.exists()


@pytest.mark.parametrize("url", PORTAL_GETS)
def test_a_starter_practice_refuses_every_portal_booking_page(harbor, ivan_browser, url):
    assert ivan_browser.get(url).status_code == 403


@pytest.mark.parametrize("url", PORTAL_GETS[:1] + PORTAL_POSTS)
def test_anonymous_visitors_of_a_starter_practice_get_403_too(harbor, url):
    assert host_client("harbor.localhost").post(url, {"start": START}).status_code == 403


@pytest.mark.parametrize("url", STAFF_POSTS)
def test_a_starter_practice_refuses_staff_booking_posts(harbor, hana_browser, url):
    response = hana_browser.post(url, {"enabled": "on"})
    assert response.status_code == 403
    assert b"part of the Professional plan" in response.content
    with schema_context(harbor.schema_name):
        assert not BookingSettings.objects.filter(enabled=True).exists()


@pytest.mark.parametrize("url", STAFF_GETS)
def test_a_starter_practice_tells_its_staff_booking_is_a_plan_feature(harbor, hana_browser, url):
    Practice.objects.filter(pk=harbor.pk).update(phone="+442079460123")
    forget_practice(harbor.pk)
    response = hana_browser.get(url)
    assert response.status_code == 403
    page = response.content.decode()
    assert "part of the Professional plan" in page and "Starter" in page
    assert "contact the practice" not in page and "+442079460123" not in page


@pytest.mark.parametrize("url", STAFF_GETS + STAFF_POSTS)
def test_staff_booking_urls_of_a_starter_practice_ask_for_a_staff_sign_in_first(
    harbor, ivan_browser, url
):
    for browser in (host_client("harbor.localhost"), ivan_browser):
        for response in (browser.get(url), browser.post(url, {"enabled": "on"})):
            assert response.status_code == 302
            assert response["Location"].startswith("/practice/sign-in/?next=")
    with schema_context(harbor.schema_name):
        assert not BookingSettings.objects.filter(enabled=True).exists()


def test_a_starter_owner_sees_what_booking_does_and_how_to_upgrade(harbor, hana_browser):
    response = hana_browser.get("/practice/settings/online-booking/")
    assert response.status_code == 200
    assert b"part of the Professional plan" in response.content
    assert b'name="enabled"' not in response.content


@pytest.mark.parametrize("url", PORTAL_POSTS)
def test_a_professional_practice_with_booking_off_refuses_a_direct_post(
    sunrise, carol_browser, carol_record, consult_service, url
):
    response = carol_browser.post(url, {"start": START})
    assert response.status_code == 403
    assert b"take appointments online at the moment" in response.content
    with schema_context(sunrise.schema_name):
        assert not Appointment.objects.exists()


@pytest.mark.parametrize("url", PORTAL_GETS)
def test_a_professional_practice_with_booking_off_refuses_portal_pages(
    sunrise, carol_browser, carol_record, url
):
    assert carol_browser.get(url).status_code == 403


def test_staff_of_a_professional_practice_reach_settings_while_booking_is_off(
    sunrise, alice_browser
):
    response = alice_browser.get("/practice/settings/online-booking/")
    assert response.status_code == 200
    assert b'name="enabled"' in response.content


def test_the_portal_home_shows_appointments_only_when_booking_is_on(
    sunrise, carol_browser, carol_record, frozen
):
    assert b"appointments-heading" not in carol_browser.get("/").content
    with schema_context(sunrise.schema_name):
        BookingSettings.objects.update_or_create(singleton=True, defaults={"enabled": True})
    home = carol_browser.get("/").content.decode()
    assert 'id="appointments-heading"' in home
    assert "Request appointment" in home


def test_a_starter_portal_home_has_no_appointments_section(harbor, ivan_browser, ivan_record):
    with schema_context(harbor.schema_name):
        # Even a switch left on from an earlier plan does not show it.
        BookingSettings.objects.update_or_create(singleton=True, defaults={"enabled": True})
    assert b"appointments-heading" not in ivan_browser.get("/").content
