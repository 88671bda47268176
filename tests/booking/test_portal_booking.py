"""A client books, requests and cancels in the portal; staff answer requests."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core import mail
from django_tenants.utils import schema_context
from icalendar import Calendar

from tenant_apps.booking.models import Appointment
from tests.booking.conftest import MONDAY_MORNING, enable_booking, refresh
from tests.conftest import host_client

# Tuesday 3 February 2026, 9:00 and 10:00 in New York (EST): the first bookable slots.
TUESDAY_NINE = "2026-02-03T14:00:00Z"
TUESDAY_TEN = "2026-02-03T15:00:00Z"


def confirm_url(service, clinician) -> str:
    return f"/appointments/new/{service.pk}/{clinician.pk}/confirm/"


def book(browser, service, clinician, start=TUESDAY_NINE, **extra):
    return browser.post(confirm_url(service, clinician), {"start": start, **extra})


def only_appointment(practice) -> Appointment:
    with schema_context(practice.schema_name):
        return Appointment.objects.select_related("client").get()


def calendar_of(message) -> tuple[str, Calendar]:
    ((name, content, mimetype),) = message.attachments
    assert name == "appointment.ics"
    return mimetype, Calendar.from_ical(content)


@pytest.fixture
def booked(sunrise, carol_browser, carol_record, booking_on, session_service, frozen):
    """Carol's confirmed appointment on Tuesday at 9:00, booked through the portal."""
    with schema_context(sunrise.schema_name):
        bob = session_service.clinicians.get()
    response = book(carol_browser, session_service, bob)
    assert response.status_code == 302, response.content
    mail.outbox.clear()
    return only_appointment(sunrise)


def test_the_client_walks_from_service_to_slot(
    sunrise, bob, carol_browser, carol_record, booking_on, session_service, consult_service, frozen
):
    services_page = carol_browser.get("/appointments/new/").content.decode()
    assert "Follow-up session" in services_page and "First consultation" in services_page
    assert "USD 150.00" in services_page and "50 minutes" in services_page

    # One clinician offers it, so the clinician step goes straight to the days.
    response = carol_browser.get(f"/appointments/new/{session_service.pk}/")
    assert response.status_code == 302
    slots_page = carol_browser.get(response["Location"]).content.decode()
    assert "Times are shown in America/New_York" in slots_page
    assert "9:00 AM EST" in slots_page
    assert f"?start={TUESDAY_NINE}" in slots_page
    assert "your time" not in slots_page


def test_an_instant_service_is_confirmed_at_once_and_emailed_with_a_calendar_file(
    sunrise, bob, carol_browser, carol_record, booking_on, session_service, frozen, after_commit
):
    confirm_page = carol_browser.get(confirm_url(session_service, bob) + f"?start={TUESDAY_NINE}")
    assert b"Tuesday, February 3, 2026, 9:00 AM EST" in confirm_page.content

    with after_commit():
        response = book(carol_browser, session_service, bob)

    appointment = only_appointment(sunrise)
    assert response["Location"] == f"/appointments/{appointment.pk}/"
    assert appointment.status == Appointment.Status.CONFIRMED
    assert appointment.start_at == datetime(2026, 2, 3, 14, tzinfo=UTC)
    assert appointment.blocks_until - appointment.end_at == timedelta(minutes=10)
    (message,) = mail.outbox
    assert message.to == [carol_record.email]
    assert message.subject == "Your appointment with Sunrise Therapy is confirmed"
    assert "Tuesday, February 3, 2026, 9:00 AM EST" in message.body
    assert "http://sunrise.localhost:8000/appointments/" in message.body
    assert "Follow-up session" not in message.body
    mimetype, calendar = calendar_of(message)
    assert mimetype == "text/calendar; method=PUBLISH"
    (event,) = calendar.walk("VEVENT")
    assert event.decoded("dtstart") == appointment.start_at
    assert event["uid"] == f"appointment-{appointment.pk}@sunrise.localhost"
    assert "Follow-up session" not in calendar.to_ical().decode()


def test_a_request_waits_for_staff_who_approve_with_a_message(
    sunrise,
    bob,
    carol_browser,
    alice_browser,
    carol_record,
    booking_on,
    consult_service,
    frozen,
    after_commit,
):
    with after_commit():
        book(carol_browser, consult_service, bob)
    appointment = only_appointment(sunrise)
    assert appointment.status == Appointment.Status.REQUESTED
    (received,) = mail.outbox
    assert received.subject == "Sunrise Therapy received your appointment request"
    assert not received.attachments

    with after_commit():
        response = alice_browser.post(
            f"/practice/appointments/{appointment.pk}/decide/",
            {"decision": "approve", "message": "See you on the video link."},
        )
    assert response.status_code == 302
    refresh(sunrise, appointment)
    assert appointment.status == Appointment.Status.CONFIRMED
    confirmed = mail.outbox[-1]
    assert confirmed.subject == "Your appointment with Sunrise Therapy is confirmed"
    assert "See you on the video link" not in confirmed.body
    assert calendar_of(confirmed)[0] == "text/calendar; method=PUBLISH"
    detail = carol_browser.get(f"/appointments/{appointment.pk}/").content.decode()
    assert "See you on the video link." in detail and "Confirmed" in detail


def test_staff_decline_a_request_and_the_client_is_emailed(
    sunrise,
    bob,
    carol_browser,
    bob_browser,
    carol_record,
    booking_on,
    consult_service,
    frozen,
    after_commit,
):
    book(carol_browser, consult_service, bob)
    appointment = only_appointment(sunrise)

    with after_commit():
        bob_browser.post(
            f"/practice/appointments/{appointment.pk}/decide/",
            {"decision": "decline", "message": "Please call us to find a time."},
        )

    refresh(sunrise, appointment)
    assert appointment.status == Appointment.Status.DECLINED
    assert mail.outbox[-1].subject == "An update on your appointment request with Sunrise Therapy"
    # Declined requests free the slot at once.
    assert book(carol_browser, consult_service, bob).status_code == 302


def test_a_time_that_is_not_offered_is_refused_with_a_clear_message(
    sunrise, bob, carol_browser, carol_record, booking_on, session_service, frozen
):
    # Monday 18:00 is outside Bob's hours; Monday 10:00 is inside the minimum notice.
    for start in ("2026-02-02T23:00:00Z", "2026-02-02T15:00:00Z", "2026-02-03T14:30:00Z"):
        response = book(carol_browser, session_service, bob, start=start)
        assert response.status_code == 302
        page = carol_browser.get(response["Location"]).content.decode()
        assert "This time is not available. Please choose another time." in page
    with schema_context(sunrise.schema_name):
        assert not Appointment.objects.exists()


def test_a_taken_slot_is_refused_and_no_longer_offered(
    sunrise, bob, carol_browser, dave_browser, dave_record, booked, session_service
):
    response = book(dave_browser, session_service, bob)
    assert "not available" in dave_browser.get(response["Location"]).content.decode()
    slots = dave_browser.get(f"/appointments/new/{session_service.pk}/{bob.pk}/").content
    assert f"?start={TUESDAY_NINE}".encode() not in slots
    assert f"?start={TUESDAY_TEN}".encode() in slots


def test_a_booking_sent_twice_shows_the_client_her_appointment(
    sunrise, bob, carol_browser, booked, session_service
):
    again = book(carol_browser, session_service, bob)

    assert again["Location"] == f"/appointments/{booked.pk}/"
    page = carol_browser.get(again["Location"]).content.decode()
    assert "Your appointment is booked." in page and "not available" not in page
    assert only_appointment(sunrise).pk == booked.pk
    assert mail.outbox == []  # the first booking's email is the only one


def test_a_refused_client_is_sent_back_to_the_free_times_of_that_day(
    sunrise, bob, carol_browser, dave_browser, dave_record, booked, session_service
):
    response = book(dave_browser, session_service, bob)

    slots = f"/appointments/new/{session_service.pk}/{bob.pk}/"
    assert response.status_code == 302
    assert response["Location"] == f"{slots}?from=2026-02-03&day=2026-02-03"
    page = dave_browser.get(response["Location"]).content.decode()
    assert "This time is not available. Please choose another time." in page
    assert "Free times on Tuesday, February 3" in page
    assert f"?start={TUESDAY_NINE}" not in page
    assert f"?start={TUESDAY_TEN}" in page


@pytest.mark.parametrize(
    ("start", "day"),
    [
        ("2026-02-02T13:00:00Z", "2026-02-02"),  # an hour ago
        ("2026-02-03T14:07:00Z", "2026-02-03"),  # off the slot grid
        ("2026-02-07T15:00:00Z", "2026-02-07"),  # a Saturday: Bob does not work
        ("2026-05-04T13:00:00Z", "2026-05-04"),  # beyond the 60-day horizon
        ("9999-12-30T12:00:00Z", "9999-12-30"),
    ],
)
def test_the_confirmation_page_refuses_a_time_that_is_not_offered(
    sunrise, bob, carol_browser, carol_record, booking_on, session_service, frozen, start, day
):
    response = carol_browser.get(confirm_url(session_service, bob) + f"?start={start}")
    assert response.status_code == 200
    page = response.content.decode()
    assert "This time is not available. Please choose another time." in page
    assert "Confirm your" not in page and "Book appointment" not in page
    slots = f"/appointments/new/{session_service.pk}/{bob.pk}/"
    assert f'href="{slots}?from={day}&amp;day={day}"' in page


def test_the_confirmation_page_refuses_a_time_someone_else_has_booked(
    sunrise, bob, dave_browser, dave_record, booked, session_service
):
    page = dave_browser.get(confirm_url(session_service, bob) + f"?start={TUESDAY_NINE}")
    assert "This time is not available. Please choose another time." in page.content.decode()
    other = dave_browser.get(confirm_url(session_service, bob) + f"?start={TUESDAY_TEN}")
    assert "Confirm your booking" in other.content.decode()


def test_the_confirmation_page_states_the_length_once(
    sunrise, bob, carol_browser, carol_record, booking_on, session_service, frozen
):
    page = carol_browser.get(confirm_url(session_service, bob) + f"?start={TUESDAY_NINE}")
    text = page.content.decode()
    assert "<dd>Follow-up session</dd>" in text
    assert text.count("50 minutes") == 1 and "(50 minutes)" not in text


def test_a_new_client_is_told_a_time_is_not_available_before_typing_anything(
    sunrise, bob, booking_on, consult_service, frozen, sunrise_client
):
    enable_booking(sunrise, audience="new_too")
    url = f"/book/{consult_service.pk}/{bob.pk}/confirm/?start=2026-02-03T14:07:00Z"
    page = sunrise_client.get(url).content.decode()
    assert "This time is not available. Please choose another time." in page
    assert 'name="email"' not in page
    assert f'href="/book/{consult_service.pk}/{bob.pk}/?from=2026-02-03&amp;day=2026-02-03"' in page


@pytest.mark.parametrize("start", ["9999-12-31T23:59:59Z", "0001-01-01T00:00:00Z"])
def test_a_start_at_the_ends_of_the_calendar_is_no_slot(
    sunrise, bob, carol_browser, carol_record, booking_on, session_service, frozen, start
):
    url = confirm_url(session_service, bob)
    assert carol_browser.get(f"{url}?start={start}").status_code == 404
    assert book(carol_browser, session_service, bob, start=start).status_code == 404
    with schema_context(sunrise.schema_name):
        assert not Appointment.objects.exists()


def test_a_booking_far_beyond_the_horizon_is_sent_back_to_the_free_times(
    sunrise, bob, carol_browser, carol_record, booking_on, session_service, frozen
):
    response = book(carol_browser, session_service, bob, start="9999-12-30T12:00:00Z")
    slots = f"/appointments/new/{session_service.pk}/{bob.pk}/"
    assert response["Location"] == f"{slots}?from=9999-12-30&day=9999-12-30"
    page = carol_browser.get(response["Location"])
    assert page.status_code == 200
    assert "This time is not available" in page.content.decode()
    with schema_context(sunrise.schema_name):
        assert not Appointment.objects.exists()


@pytest.mark.parametrize(
    ("asked", "shown"),
    [
        ("9999-12-31", "Free times on Friday, April 3"),  # the last day of the horizon
        ("2026-06-01", "Free times on Friday, April 3"),
        ("0001-01-01", "Free times on Tuesday, February 3"),
        ("99999-01-01", "Free times on Tuesday, February 3"),
    ],
)
def test_the_free_times_stay_inside_the_horizon(
    sunrise, bob, carol_browser, carol_record, booking_on, session_service, frozen, asked, shown
):
    slots = f"/appointments/new/{session_service.pk}/{bob.pk}/"
    response = carol_browser.get(f"{slots}?from={asked}")
    assert response.status_code == 200
    page = response.content.decode()
    assert shown in page
    assert asked not in page
    assert ">Later</a>" not in page if "April" in shown else ">Later</a>" in page


def test_a_new_client_asking_for_a_far_date_sees_the_horizon(
    sunrise, bob, booking_on, consult_service, frozen, sunrise_client
):
    enable_booking(sunrise, audience="new_too")
    response = sunrise_client.get(f"/book/{consult_service.pk}/{bob.pk}/?from=9999-12-31")
    assert response.status_code == 200
    assert "Free times on Friday, April 3" in response.content.decode()


def test_far_dates_open_nothing_to_visitors_or_other_practices(
    sunrise, bob, harbor_professional, ivan_browser, ivan_record, booking_on, session_service
):
    slots = f"/appointments/new/{session_service.pk}/{bob.pk}/"
    for url in (f"{slots}?from=9999-12-31", f"{slots}confirm/?start=9999-12-30T12:00:00Z"):
        response = host_client("sunrise.localhost").get(url)
        assert response.status_code == 302 and response["Location"].startswith("/sign-in/")
        assert ivan_browser.get(url).status_code == 404


def test_a_client_in_another_zone_sees_both_times(
    sunrise, bob, carol_browser, carol_record, booking_on, session_service, frozen
):
    slots = f"/appointments/new/{session_service.pk}/{bob.pk}/"
    page = carol_browser.get(slots + "?tz=America/Los_Angeles").content.decode()
    assert "9:00 AM EST" in page and "6:00 AM PST your time" in page
    assert "with your time (America/Los_Angeles) beside them" in page

    # The zone is kept on the session for the next pages, including the confirmation.
    confirm = carol_browser.get(confirm_url(session_service, bob) + f"?start={TUESDAY_NINE}")
    assert "Tuesday, February 3, 2026, 6:00 AM PST, your time" in confirm.content.decode()

    # Back home in New York, one time is enough.
    same = carol_browser.get(slots + "?tz=America/New_York").content.decode()
    assert "your time" not in same
    # A name that is not an IANA zone changes nothing.
    assert "your time" not in carol_browser.get(slots + "?tz=Mars/Olympus").content.decode()


def test_the_client_lists_upcoming_and_past_appointments(
    sunrise, bob, carol_browser, carol_record, booked
):
    last_week = MONDAY_MORNING - timedelta(days=7)
    with schema_context(sunrise.schema_name):
        earlier = Appointment.objects.create(
            client=carol_record,
            clinician=bob,
            start_at=last_week,
            end_at=last_week + timedelta(minutes=50),
            blocks_until=last_week + timedelta(hours=1),
            status="confirmed",
            source="staff",
        )
    listing = carol_browser.get("/appointments/").content.decode()
    upcoming, past = listing.split('id="past-heading"')
    assert f"/appointments/{booked.pk}/" in upcoming and f"/appointments/{booked.pk}/" not in past
    assert f"/appointments/{earlier.pk}/" in past and f"/appointments/{earlier.pk}/" not in upcoming


@pytest.mark.parametrize(
    "start",
    [
        datetime(1, 1, 1, tzinfo=UTC),
        datetime(1, 1, 1, 4, 56, 2, tzinfo=UTC),  # midnight of year 1 in New York
        datetime(9999, 12, 31, 22, tzinfo=UTC),
    ],
)
def test_any_stored_appointment_shows_to_its_client_and_staff(
    sunrise, bob, carol_browser, alice_browser, carol_record, booking_on, frozen, start
):
    with schema_context(sunrise.schema_name):
        appointment = Appointment.objects.create(
            client=carol_record,
            clinician=bob,
            start_at=start,
            end_at=start + timedelta(minutes=50),
            status="confirmed",
            source="staff",
        )
    assert carol_browser.get(f"/appointments/{appointment.pk}/").status_code == 200
    assert carol_browser.get("/appointments/").status_code == 200
    assert alice_browser.get(f"/practice/appointments/{appointment.pk}/").status_code == 200


# Cancelling ------------------------------------------------------------------------------

# Booked for Tuesday 9:00 with a 24-hour window: online cancelling ends at this instant.
WINDOW_STARTS = datetime(2026, 2, 2, 14, 0, tzinfo=UTC)


def test_the_client_cancels_until_the_window_begins(sunrise, carol_browser, booked, after_commit):
    with time_machine.travel(WINDOW_STARTS - timedelta(seconds=1), tick=False):
        page = carol_browser.get(f"/appointments/{booked.pk}/").content.decode()
        assert "Cancel appointment" in page
        with after_commit():
            response = carol_browser.post(f"/appointments/{booked.pk}/cancel/")
    assert response["Location"] == "/appointments/"
    refresh(sunrise, booked)
    assert booked.status == Appointment.Status.CANCELLED and not booked.late_cancellation
    (message,) = mail.outbox
    assert message.subject == "Your appointment with Sunrise Therapy is cancelled"
    mimetype, calendar = calendar_of(message)
    assert mimetype == "text/calendar; method=CANCEL"
    (event,) = calendar.walk("VEVENT")
    assert calendar["method"] == "CANCEL" and event["status"] == "CANCELLED"
    assert event["sequence"] == booked.sequence == 1


def test_at_the_window_boundary_the_portal_shows_the_policy_and_refuses_a_post(
    sunrise, carol_browser, booked
):
    from tenants.hosts import forget_practice
    from tenants.models import Practice

    Practice.objects.filter(pk=sunrise.pk).update(
        phone="+12125550147", cancellation_policy="Late cancellations are charged in full."
    )
    forget_practice(sunrise.pk)
    with time_machine.travel(WINDOW_STARTS, tick=False):
        page = carol_browser.get(f"/appointments/{booked.pk}/").content.decode()
        response = carol_browser.post(f"/appointments/{booked.pk}/cancel/", follow=True)
    assert "Cancel appointment" not in page
    assert "+12125550147" in page and "Late cancellations are charged in full." in page
    assert "can no longer be cancelled online" in response.content.decode()
    refresh(sunrise, booked)
    assert booked.status == Appointment.Status.CONFIRMED
    assert not mail.outbox


@pytest.mark.parametrize("late", [True, False])
def test_staff_cancel_at_any_time_and_say_whether_it_was_late(
    sunrise, alice_browser, booked, late, after_commit
):
    with time_machine.travel(booked.start_at - timedelta(minutes=5), tick=False), after_commit():
        alice_browser.post(
            f"/practice/appointments/{booked.pk}/cancel/", {"late": "on"} if late else {}
        )
    refresh(sunrise, booked)
    assert booked.status == Appointment.Status.CANCELLED
    assert booked.late_cancellation is late
    assert calendar_of(mail.outbox[-1])[0] == "text/calendar; method=CANCEL"


# Isolation -------------------------------------------------------------------------------


def test_another_client_cannot_see_or_cancel_the_appointment(
    sunrise, dave_browser, dave_record, booked
):
    assert dave_browser.get(f"/appointments/{booked.pk}/").status_code == 404
    assert dave_browser.post(f"/appointments/{booked.pk}/cancel/").status_code == 404
    assert f"/appointments/{booked.pk}/".encode() not in dave_browser.get("/appointments/").content
    refresh(sunrise, booked)
    assert booked.status == Appointment.Status.CONFIRMED


def test_an_anonymous_visitor_is_sent_to_sign_in(sunrise, booked, sunrise_client):
    for url in (f"/appointments/{booked.pk}/", "/appointments/", "/appointments/new/"):
        response = sunrise_client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/sign-in/")
    assert sunrise_client.post(f"/appointments/{booked.pk}/cancel/").status_code == 302
    refresh(sunrise, booked)
    assert booked.status == Appointment.Status.CONFIRMED


def test_ids_from_another_practice_are_404(
    sunrise, harbor_professional, ivan_browser, ivan_record, booked, session_service, bob
):
    assert ivan_browser.get(f"/appointments/{booked.pk}/").status_code == 404
    assert ivan_browser.post(f"/appointments/{booked.pk}/cancel/").status_code == 404
    assert ivan_browser.get(f"/appointments/new/{session_service.pk}/").status_code == 404
    assert book(ivan_browser, session_service, bob).status_code == 404
    refresh(sunrise, booked)
    assert booked.status == Appointment.Status.CONFIRMED


def test_a_sunrise_session_means_nothing_at_harbor(harbor_professional, carol_browser, booked):
    carol_browser.defaults["HTTP_HOST"] = "harbor.localhost"
    response = carol_browser.get(f"/appointments/{booked.pk}/")
    assert response.status_code == 302 and "/sign-in/" in response["Location"]


def test_nonsense_ids_are_404(sunrise, carol_browser, carol_record, booking_on, frozen):
    for url in ("/appointments/abc/", "/appointments/new/x/", "/appointments/new/1/y/"):
        assert carol_browser.get(url).status_code == 404
