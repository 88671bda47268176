"""Practice Details and Client Portal settings in the workspace."""

import re
from datetime import UTC, datetime

import pytest
import time_machine

from tenants.models import Practice
from tests.conftest import host_client

DETAILS_URL = "/practice/settings/details/"
PORTAL_URL = "/practice/settings/client-portal/"

VALID_DETAILS = {
    "name": "Sunrise Therapy & Wellness",
    "time_zone": "America/Chicago",
    "phone": "(212) 555-0147",
    "address_line1": "120 Example Avenue",
    "address_line2": "Suite 4",
    "city": "New York",
    "region": "NY",
    "postal_code": "10001",
    "country": "us",
    "show_address_to_clients": "on",
    "cancellation_policy": "Cancel 48 hours ahead, please.",
    "cancellation_notice_hours": "48",
    "client_idle_timeout_minutes": "30",
}


def test_the_owner_saves_practice_details_and_clients_see_them(alice_browser, sunrise):
    response = alice_browser.post(DETAILS_URL, VALID_DETAILS)
    assert response.status_code == 302

    sunrise.refresh_from_db()
    assert sunrise.name == "Sunrise Therapy & Wellness"
    assert sunrise.time_zone == "America/Chicago"
    assert sunrise.phone == "+12125550147"
    assert sunrise.country == "US"
    assert sunrise.cancellation_notice_hours == 48

    portal = host_client("sunrise.localhost").get("/").content.decode()
    assert "Sunrise Therapy &amp; Wellness" in portal
    assert "120 Example Avenue" in portal
    assert "Cancel 48 hours ahead, please." in portal
    # Dialled as stored, shown as people in the practice's country write it.
    assert '<a href="tel:+12125550147">(212) 555-0147</a>' in portal


def test_a_phone_abroad_is_shown_in_international_form(alice_browser, sunrise):
    alice_browser.post(DETAILS_URL, {**VALID_DETAILS, "phone": "+44 20 7946 0958"})

    portal = host_client("sunrise.localhost").get("/").content.decode()
    assert '<a href="tel:+442079460958">+44 20 7946 0958</a>' in portal


def test_the_address_is_hidden_from_clients_when_the_practice_says_so(alice_browser):
    details = {**VALID_DETAILS}
    del details["show_address_to_clients"]
    alice_browser.post(DETAILS_URL, details)
    portal = host_client("sunrise.localhost").get("/").content.decode()
    assert "120 Example Avenue" not in portal


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("phone", "12345", "Enter a valid phone number"),
        ("phone", "212.555.0147 x12", "Enter the number without an extension"),
        ("time_zone", "Mars/Olympus", "Choose a time zone from the list"),
        ("name", "", "This field is required"),
        ("country", "USA", "two-letter country code"),
        ("country", "ZZ", "ZZ is not a country code."),
        ("country", "ac", "AC is not a country code."),
        ("client_idle_timeout_minutes", "5", "greater than or equal to 15"),
        ("client_idle_timeout_minutes", "121", "less than or equal to 120"),
    ],
)
def test_bad_details_get_a_clear_message_and_keep_what_was_typed(
    alice_browser, sunrise, field, value, message
):
    response = alice_browser.post(DETAILS_URL, {**VALID_DETAILS, field: value})
    assert response.status_code == 200
    content = response.content.decode()
    assert message in content
    assert "Cancel 48 hours ahead, please." in content
    if value:
        assert value in content
    sunrise.refresh_from_db()
    assert sunrise.name == "Sunrise Therapy"


def test_the_time_zone_is_accepted_in_any_case_and_stored_by_its_iana_name(alice_browser, sunrise):
    response = alice_browser.post(
        DETAILS_URL, {**VALID_DETAILS, "time_zone": " america/new_YORK ", "country": "ca"}
    )

    assert response.status_code == 302
    sunrise.refresh_from_db()
    assert (sunrise.time_zone, sunrise.country) == ("America/New_York", "CA")


def test_the_idle_timeout_input_offers_the_range_the_server_accepts(alice_browser):
    page = alice_browser.get(DETAILS_URL).content.decode()

    (idle_input,) = re.findall(r'<input[^>]*name="client_idle_timeout_minutes"[^>]*>', page)
    assert 'min="15"' in idle_input and 'max="120"' in idle_input
    assert "Between 15 and 120" in page


def test_a_clinician_cannot_change_practice_settings(bob_browser, sunrise):
    assert bob_browser.get(DETAILS_URL).status_code == 403
    assert bob_browser.post(DETAILS_URL, VALID_DETAILS).status_code == 403
    assert bob_browser.post(PORTAL_URL, {"slug": "bobs-place"}).status_code == 403
    sunrise.refresh_from_db()
    assert sunrise.name == "Sunrise Therapy" and sunrise.slug == "sunrise"


@pytest.mark.parametrize("url", [DETAILS_URL, PORTAL_URL, "/practice/"])
def test_anonymous_visitors_and_clients_are_sent_to_staff_sign_in(url, carol_browser):
    for browser in (host_client("sunrise.localhost"), carol_browser):
        response = browser.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/practice/sign-in/")


def test_another_practice_owner_cannot_reach_sunrise_settings(hana, sunrise):
    hana_at_sunrise = host_client("sunrise.localhost")
    response = hana_at_sunrise.post(
        "/practice/sign-in/", {"username": hana.email, "password": "correct-horse-battery-staple"}
    )
    assert response.status_code == 200
    assert hana_at_sunrise.post(DETAILS_URL, VALID_DETAILS).status_code == 302
    sunrise.refresh_from_db()
    assert sunrise.name == "Sunrise Therapy"


def test_harbor_settings_show_harbor_only(hana_browser):
    content = hana_browser.get(PORTAL_URL).content.decode()
    assert "harbor.localhost" in content
    assert "sunrise" not in content.lower()


def test_the_portal_page_shows_the_editable_practice_url(alice_browser):
    content = alice_browser.get(PORTAL_URL).content.decode()
    assert "Client Portal Address" in content
    assert 'name="slug"' in content and 'value="sunrise"' in content
    assert "Save &amp; Lock" in content
    assert "View Client Portal" not in content


def test_saving_a_new_slug_moves_the_portal_and_keeps_the_owner_signed_in(alice_browser, sunrise):
    response = alice_browser.post(PORTAL_URL, {"slug": "sunrise-care", "action": "save"})
    assert response.status_code == 302
    handoff = response["Location"]
    assert handoff.startswith("http://sunrise-care.localhost:8000/practice/handoff/")

    new_host = host_client("sunrise-care.localhost")
    landed = new_host.get(handoff.split(":8000", 1)[1])
    assert landed["Location"] == PORTAL_URL
    page = new_host.get(PORTAL_URL).content.decode()
    assert 'value="sunrise-care"' in page
    # The confirmation travels with the handoff: the old host's session stays behind.
    assert "Your portal address is saved." in page
    assert host_client("sunrise.localhost").get("/").status_code == 404

    # The handoff link works once; opened again by the one it signed in, it goes home.
    replay = host_client("sunrise-care.localhost").get(handoff.split(":8000", 1)[1])
    assert replay["Location"].startswith("/practice/sign-in/")
    assert new_host.get(handoff.split(":8000", 1)[1])["Location"] == "/practice/"


def test_two_moves_in_the_same_second_each_keep_the_owner_signed_in(alice_browser, sunrise):
    with time_machine.travel(datetime(2026, 11, 20, 15, tzinfo=UTC), tick=False):
        first = alice_browser.post(PORTAL_URL, {"slug": "sunrise-care", "action": "save"})
        moved = host_client("sunrise-care.localhost")
        assert moved.get(first["Location"].split(":8000", 1)[1])["Location"] == PORTAL_URL
        second = moved.post(PORTAL_URL, {"slug": "sunrise-well", "action": "save"})
        again = host_client("sunrise-well.localhost")
        landed = again.get(second["Location"].split(":8000", 1)[1])

    assert landed["Location"] == PORTAL_URL
    assert b'value="sunrise-well"' in again.get(PORTAL_URL).content


def test_a_handoff_token_is_refused_at_another_practice(alice_browser, harbor):
    response = alice_browser.post(PORTAL_URL, {"slug": "sunrise-care", "action": "save"})
    path = response["Location"].split(":8000", 1)[1]
    at_harbor = host_client("harbor.localhost").get(path)
    assert at_harbor["Location"].startswith("/practice/sign-in/")


def test_a_taken_slug_gets_a_clear_message(alice_browser):
    response = alice_browser.post(PORTAL_URL, {"slug": "harbor", "action": "save"})
    assert b"already taken" in response.content
    assert b'value="harbor"' in response.content


def test_an_invalid_slug_gets_a_clear_message(alice_browser):
    response = alice_browser.post(PORTAL_URL, {"slug": "-bad-", "action": "lock"})
    assert b"single hyphens" in response.content


def test_save_and_lock_asks_for_confirmation_first(alice_browser, sunrise):
    response = alice_browser.post(PORTAL_URL, {"slug": "sunrise", "action": "lock"})
    assert response.status_code == 200
    assert b"Lock your portal address?" in response.content
    sunrise.refresh_from_db()
    assert not sunrise.is_portal_locked


def test_once_locked_the_page_offers_view_and_copy_and_no_editing(alice_browser, sunrise):
    alice_browser.post(PORTAL_URL, {"slug": "sunrise", "action": "lock", "confirmed": "yes"})
    sunrise.refresh_from_db()
    assert sunrise.is_portal_locked

    content = alice_browser.get(PORTAL_URL).content.decode()
    assert "View Client Portal" in content
    assert 'target="_blank"' in content
    assert 'data-copy="http://sunrise.localhost:8000/"' in content
    assert "readonly" in content
    assert 'name="slug"' not in content


def test_a_tampered_post_cannot_change_a_locked_slug(alice_browser, sunrise):
    alice_browser.post(PORTAL_URL, {"slug": "sunrise", "action": "lock", "confirmed": "yes"})
    for action in ("save", "lock"):
        response = alice_browser.post(
            PORTAL_URL, {"slug": "elsewhere", "action": action, "confirmed": "yes"}, follow=True
        )
        assert b"locked and can no longer change" in response.content
    assert Practice.objects.get(pk=sunrise.pk).slug == "sunrise"


def test_the_workspace_home_shows_the_menu_and_portal_link(alice_browser):
    content = alice_browser.get("/practice/").content.decode()
    assert "Practice Management" in content
    assert 'href="/practice/settings/client-portal/"' in content
    assert "http://sunrise.localhost:8000/" in content


def test_signed_in_staff_at_harbor_cannot_see_sunrise(alice, hana_browser):
    content = hana_browser.get("/practice/").content.decode()
    assert "Harbor Counseling" in content and "Sunrise" not in content


def test_the_owner_chooses_the_client_idle_limit_within_bounds(alice_browser, sunrise):
    response = alice_browser.post(
        DETAILS_URL, {**VALID_DETAILS, "client_idle_timeout_minutes": "10"}
    )
    assert b"greater than or equal to 15" in response.content
    alice_browser.post(DETAILS_URL, {**VALID_DETAILS, "client_idle_timeout_minutes": "45"})
    sunrise.refresh_from_db()
    assert sunrise.client_idle_timeout_minutes == 45


def test_a_very_long_cancellation_policy_is_refused(alice_browser):
    response = alice_browser.post(DETAILS_URL, {**VALID_DETAILS, "cancellation_policy": "x" * 5001})
    assert b"at most 5000 characters" in response.content


def test_workspace_times_are_shown_in_the_practice_zone(
    alice_browser, sunrise, alice, django_capture_on_commit_callbacks
):
    from datetime import UTC, datetime

    import time_machine
    from django.utils import timezone
    from django_tenants.utils import schema_context

    from tenant_apps.clients.models import Client
    from tenant_apps.clients.services import invite_client

    with schema_context(sunrise.schema_name):
        erin = Client.objects.create(
            legal_first_name="Erin", legal_last_name="Zone", email="e@z.test"
        )
        with time_machine.travel(datetime(2026, 12, 3, 18, 50, tzinfo=UTC), tick=False):
            invite_client(erin, actor=alice)
    page = alice_browser.get(f"/practice/clients/{erin.pk}/").content.decode()
    # 18:50 UTC is 1:50 p.m. in New York.
    assert "1:50 p.m." in page and "6:50 p.m." not in page
    # The zone is the request's only: the server's default stays UTC.
    assert timezone.get_current_timezone_name() == "UTC"
