"""Workspace: booking settings, services, hours, the calendar and staff actions."""

from datetime import UTC, datetime, time, timedelta

import pytest
import time_machine
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import schema_context

from tenant_apps.accounts.models import Role, User
from tenant_apps.audit.models import AuditEvent
from tenant_apps.booking.models import (
    Appointment,
    AvailabilityException,
    BookableService,
    BookingSettings,
    TimeBlock,
    WorkingHours,
)
from tenant_apps.clients.models import Client
from tests.booking.conftest import refresh
from tests.conftest import signed_in
from tests.personas import PASSWORD

SETTINGS_URL = "/practice/settings/online-booking/"
TUESDAY_NINE = datetime(2026, 2, 3, 14, tzinfo=UTC)


@pytest.fixture
def cleo(sunrise):
    """A second clinician, without practice-wide access."""
    with schema_context(sunrise.schema_name):
        return User.objects.create_user(
            "cleo@sunrise.test", PASSWORD, full_name="Cleo Clinician", role=Role.CLINICIAN
        )


@pytest.fixture
def cleo_browser(cleo):
    return signed_in("sunrise.localhost", cleo, url="/practice/sign-in/")


def appointment_for(practice, client, clinician, start=TUESDAY_NINE, **values):
    with schema_context(practice.schema_name):
        end = start + timedelta(minutes=50)
        return Appointment.objects.create(
            client=client,
            clinician=clinician,
            start_at=start,
            end_at=end,
            blocks_until=end,
            status=values.pop("status", "confirmed"),
            source="staff",
            **values,
        )


# Settings --------------------------------------------------------------------------------


def test_the_owner_enables_booking_and_sets_the_rules(sunrise, alice_browser):
    response = alice_browser.post(
        SETTINGS_URL,
        {
            "enabled": "on",
            "audience": "new_too",
            "min_notice_hours": "12",
            "max_horizon_days": "30",
            "buffer_minutes": "15",
            "slot_interval_minutes": "15",
            "reminder_lead_hours": "48",
        },
    )
    assert response.status_code == 302
    with schema_context(sunrise.schema_name):
        settings = BookingSettings.load()
        assert settings.enabled and settings.new_clients_may_book
        assert (settings.min_notice_hours, settings.max_horizon_days) == (12, 30)
        assert (settings.buffer_minutes, settings.slot_interval_minutes) == (15, 15)
        assert settings.reminder_lead_hours == 48
        assert AuditEvent.objects.filter(action="booking.settings_changed").exists()


def test_bad_settings_get_a_clear_error_and_change_nothing(sunrise, alice_browser):
    response = alice_browser.post(
        SETTINGS_URL,
        {
            "enabled": "on",
            "audience": "existing",
            "min_notice_hours": "2",
            "max_horizon_days": "0",
            "buffer_minutes": "10",
            "slot_interval_minutes": "30",
            "reminder_lead_hours": "12",
        },
    )
    assert response.status_code == 200
    assert b"Ensure this value is greater than or equal to 1" in response.content
    assert b"Select a valid choice" in response.content
    with schema_context(sunrise.schema_name):
        assert not BookingSettings.load().enabled


def test_the_settings_page_states_the_cancellation_window(sunrise, alice_browser):
    assert b"<strong>24 hours</strong>" in alice_browser.get(SETTINGS_URL).content


def test_clinicians_and_billers_cannot_change_settings(sunrise, bob_browser, biller_browser):
    for browser in (bob_browser, biller_browser):
        assert browser.post(SETTINGS_URL, {"enabled": "on"}).status_code == 403
    with schema_context(sunrise.schema_name):
        assert not BookingSettings.load().enabled


def test_the_owner_adds_a_service_with_fee_and_clinicians(sunrise, alice_browser, bob):
    response = alice_browser.post(
        "/practice/settings/online-booking/services/new/",
        {
            "name": "Couples session",
            "duration_minutes": "80",
            "fee": "22500",
            "location": "telehealth",
            "mode": "instant",
            "bookable_online": "on",
            "is_active": "on",
            "clinicians": [str(bob.pk)],
        },
    )
    assert response.status_code == 302
    with schema_context(sunrise.schema_name):
        service = BookableService.objects.get()
        assert (service.duration_minutes, service.fee, service.location) == (
            80,
            22500,
            "telehealth",
        )
        assert list(service.clinicians.all()) == [bob]
    assert b"USD 225.00" in alice_browser.get(SETTINGS_URL).content


def test_the_service_form_offers_the_durations_the_server_accepts(sunrise, alice_browser):
    url = "/practice/settings/online-booking/services/new/"
    page = alice_browser.get(url).content.decode()
    assert 'name="duration_minutes" min="5" max="480"' in page

    response = alice_browser.post(
        url, {"name": "Long", "duration_minutes": "481", "location": "office", "mode": "instant"}
    )
    assert "less than or equal to 480" in response.content.decode()
    assert 'value="481"' in response.content.decode()


def test_a_service_from_another_practice_is_404(sunrise, harbor_professional, hana_browser):
    with schema_context(sunrise.schema_name):
        service = BookableService.objects.create(name="S", duration_minutes=50)
    url = f"/practice/settings/online-booking/services/{service.pk}/"
    assert hana_browser.get(url).status_code == 404


# Hours, exceptions, blocked time ----------------------------------------------------------


def test_a_clinician_sets_their_own_weekly_hours(sunrise, bob, bob_browser):
    url = f"/practice/settings/online-booking/hours/{bob.pk}/"
    response = bob_browser.post(
        url, {"action": "hours", "hours": "Mon 09:00-12:00\nMon 13:00-17:00\nthu 10:00-14:00"}
    )
    assert response.status_code == 302
    with schema_context(sunrise.schema_name):
        hours = list(
            WorkingHours.objects.filter(clinician=bob).values_list("weekday", "start_time")
        )
    assert hours == [(0, time(9)), (0, time(13)), (3, time(10))]
    assert "Mon 09:00-12:00" in bob_browser.get(url).content.decode()


def test_unreadable_hours_are_explained_and_nothing_is_lost(sunrise, bob, bob_browser):
    url = f"/practice/settings/online-booking/hours/{bob.pk}/"
    bob_browser.post(url, {"action": "hours", "hours": "Mon 09:00-17:00"})
    response = bob_browser.post(url, {"action": "hours", "hours": "Mon 09:00-17:00\nFunday 9-5"})
    assert b"Line 2: write a day and a time range" in response.content
    assert b"Funday 9-5" in response.content
    with schema_context(sunrise.schema_name):
        assert WorkingHours.objects.filter(clinician=bob).count() == 1


def test_days_off_extra_hours_and_blocked_time(sunrise, bob, alice_browser, frozen):
    url = f"/practice/settings/online-booking/hours/{bob.pk}/"
    alice_browser.post(url, {"action": "exception", "date": "2026-12-24", "kind": "off"})
    alice_browser.post(
        url,
        {
            "action": "exception",
            "date": "2026-12-27",
            "kind": "extra",
            "start_time": "10:00",
            "end_time": "12:00",
        },
    )
    alice_browser.post(
        url, {"action": "block", "date": "2026-12-22", "time": "13:00", "minutes": "90"}
    )
    with schema_context(sunrise.schema_name):
        kinds = list(AvailabilityException.objects.values_list("kind", flat=True))
        block = TimeBlock.objects.get()
    assert sorted(kinds) == ["extra", "off"]
    assert block.start_at == datetime(2026, 12, 22, 18, tzinfo=UTC)
    assert block.end_at - block.start_at == timedelta(minutes=90)


@pytest.mark.parametrize(
    ("day", "error"),
    [
        ("9999-12-31", "Choose a date within two years from today."),
        ("0001-01-01", "This date has passed."),
        ("2026-02-01", "This date has passed."),
    ],
)
def test_a_day_off_outside_the_planning_range_is_explained(
    sunrise, bob, alice_browser, frozen, day, error
):
    url = f"/practice/settings/online-booking/hours/{bob.pk}/"
    response = alice_browser.post(url, {"action": "exception", "date": day, "kind": "off"})
    assert response.status_code == 200
    assert error in response.content.decode()
    assert f'value="{day}"' in response.content.decode()
    with schema_context(sunrise.schema_name):
        assert not AvailabilityException.objects.exists()


def test_a_block_at_a_time_that_does_not_exist_is_explained(sunrise, bob, alice_browser, frozen):
    url = f"/practice/settings/online-booking/hours/{bob.pk}/"
    response = alice_browser.post(
        url, {"action": "block", "date": "2026-03-08", "time": "02:30", "minutes": "30"}
    )
    assert b"does not exist on this date" in response.content


def test_a_clinician_cannot_edit_another_clinicians_hours(sunrise, bob, cleo, cleo_browser):
    url = f"/practice/settings/online-booking/hours/{bob.pk}/"
    assert cleo_browser.get(url).status_code == 404
    assert (
        cleo_browser.post(url, {"action": "hours", "hours": "Mon 09:00-10:00"}).status_code == 404
    )


def test_exceptions_of_another_clinician_cannot_be_removed(sunrise, bob, cleo, cleo_browser):
    with schema_context(sunrise.schema_name):
        exception = AvailabilityException.objects.create(
            clinician=bob, date="2026-12-24", kind="off"
        )
    url = f"/practice/settings/online-booking/hours/{cleo.pk}/"
    response = cleo_browser.post(url, {"action": "remove_exception", "pk": exception.pk})
    assert response.status_code == 404
    with schema_context(sunrise.schema_name):
        assert AvailabilityException.objects.filter(pk=exception.pk).exists()


# Calendar ---------------------------------------------------------------------------------


def test_the_week_view_lists_appointments_per_clinician(
    sunrise, bob, alice_browser, carol_record, dave_record
):
    appointment_for(sunrise, carol_record, bob)
    appointment_for(sunrise, dave_record, bob, start=TUESDAY_NINE + timedelta(hours=2))
    page = alice_browser.get("/practice/calendar/?date=2026-02-04").content.decode()
    assert "Tuesday, February 3" in page and "Bob Clinician" in page
    assert "9:00 AM EST\u20139:50 AM EST Carol Client" in page
    assert "Dave Client" in page


def test_the_calendar_does_a_fixed_number_of_queries(
    sunrise, bob, alice_browser, carol_record, dave_record
):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert alice_browser.get("/practice/calendar/?date=2026-02-04").status_code == 200
        return len(captured)

    alice_browser.get("/practice/")  # the signed-in user is cached from here on
    appointment_for(sunrise, carol_record, bob)
    few = queries()
    for hour in range(1, 6):
        appointment_for(
            sunrise, dave_record, bob, start=TUESDAY_NINE + timedelta(days=1, hours=hour)
        )
    assert queries() == few


def test_a_clinician_sees_only_their_own_calendar(sunrise, bob, cleo, cleo_browser, carol_record):
    appointment = appointment_for(sunrise, carol_record, bob)
    page = cleo_browser.get("/practice/calendar/?date=2026-02-03").content.decode()
    assert "Carol Client" not in page
    assert cleo_browser.get(f"/practice/appointments/{appointment.pk}/").status_code == 404
    assert cleo_browser.get(f"/practice/calendar/?clinician={bob.pk}").status_code == 404
    for action in ("decide", "cancel", "move"):
        url = f"/practice/appointments/{appointment.pk}/{action}/"
        assert cleo_browser.post(url, {"decision": "approve"}).status_code == 404
    refresh(sunrise, appointment)
    assert appointment.status == "confirmed"


def test_billers_do_not_see_the_calendar(sunrise, bob, biller_browser, carol_record):
    appointment = appointment_for(sunrise, carol_record, bob)
    assert biller_browser.get("/practice/calendar/").status_code == 403
    assert biller_browser.get(f"/practice/appointments/{appointment.pk}/").status_code == 404


def test_other_practices_and_clients_cannot_reach_staff_views(
    sunrise, bob, harbor_professional, hana_browser, carol_browser, sunrise_client, carol_record
):
    appointment = appointment_for(sunrise, carol_record, bob, status="requested")
    for action in ("", "decide/", "cancel/", "move/"):
        url = f"/practice/appointments/{appointment.pk}/{action}"
        assert hana_browser.post(url, {"decision": "approve"}).status_code == 404
        assert carol_browser.post(url, {"decision": "approve"}).status_code == 302
        assert sunrise_client.post(url, {"decision": "approve"}).status_code == 302
    refresh(sunrise, appointment)
    assert appointment.status == "requested"


def test_staff_add_an_appointment_on_the_calendar(
    sunrise, bob, alice_browser, carol_record, after_commit, frozen
):
    with after_commit():
        response = alice_browser.post(
            "/practice/calendar/new/",
            {
                "client": carol_record.pk,
                "clinician": bob.pk,
                "date": "2026-02-05",
                "time": "18:30",
                "minutes": "45",
                "location": "office",
            },
        )
    assert response.status_code == 302
    with schema_context(sunrise.schema_name):
        appointment = Appointment.objects.get()
    assert appointment.start_at == datetime(2026, 2, 5, 23, 30, tzinfo=UTC)
    assert appointment.status == "confirmed" and appointment.source == "staff"
    assert mail.outbox[-1].subject == "Your appointment with Sunrise Therapy is confirmed"


def test_staff_cannot_put_two_appointments_on_one_time(
    sunrise, bob, alice_browser, carol_record, dave_record, frozen
):
    appointment_for(sunrise, carol_record, bob)
    response = alice_browser.post(
        "/practice/calendar/new/",
        {
            "client": dave_record.pk,
            "clinician": bob.pk,
            "date": "2026-02-03",
            "time": "09:30",
            "minutes": "30",
            "location": "office",
        },
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "Bob Clinician already has an appointment at that time." in page
    assert "someone else" not in page
    assert 'value="2026-02-03"' in page and 'value="09:30"' in page
    with schema_context(sunrise.schema_name):
        assert Appointment.objects.count() == 1


def _schedule(browser, client, clinician, **values):
    data = {
        "client": client.pk,
        "clinician": clinician.pk,
        "date": "2026-02-05",
        "time": "10:00",
        "minutes": "45",
        "location": "office",
        **values,
    }
    return browser.post("/practice/calendar/new/", data)


@pytest.mark.parametrize(
    ("day", "at", "error"),
    [
        ("9999-12-31", "23:59", "Choose a date within two years from today."),
        ("2028-02-03", "09:00", "Choose a date within two years from today."),
        ("0001-01-01", "00:00", "This date has passed."),
        ("2001-01-01", "00:00", "This date has passed."),
        ("2026-02-02", "08:30", "This time has passed."),
    ],
)
def test_staff_add_appointments_only_from_now_to_two_years_ahead(
    sunrise, bob, alice_browser, carol_record, frozen, after_commit, day, at, error
):
    with after_commit():
        response = _schedule(alice_browser, carol_record, bob, date=day, time=at, minutes="50")
    assert response.status_code == 200
    page = response.content.decode()
    assert error in page
    assert f'value="{day}"' in page and f'value="{at}"' in page
    with schema_context(sunrise.schema_name):
        assert not Appointment.objects.exists()
    assert not mail.outbox


def test_staff_add_appointments_later_today_and_on_the_last_day_two_years_ahead(
    sunrise, bob, alice_browser, carol_record, frozen
):
    for day in ("2026-02-02", "2028-02-02"):
        assert _schedule(alice_browser, carol_record, bob, date=day).status_code == 302
    with schema_context(sunrise.schema_name):
        assert Appointment.objects.count() == 2


def test_staff_block_time_from_earlier_today_but_not_from_a_far_date(
    sunrise, bob, alice_browser, frozen
):
    url = f"/practice/settings/online-booking/hours/{bob.pk}/"
    for day, at in (("9999-12-31", "23:59"), ("2026-02-01", "13:00")):
        response = alice_browser.post(
            url, {"action": "block", "date": day, "time": at, "minutes": "90"}
        )
        assert response.status_code == 200
        assert f'value="{day}"' in response.content.decode()
    with schema_context(sunrise.schema_name):
        assert not TimeBlock.objects.exists()

    response = alice_browser.post(
        url, {"action": "block", "date": "2026-02-02", "time": "08:00", "minutes": "180"}
    )
    assert response.status_code == 302
    with schema_context(sunrise.schema_name):
        assert TimeBlock.objects.get().start_at == datetime(2026, 2, 2, 13, tzinfo=UTC)


@pytest.fixture
def erin_record(sunrise, cleo):
    """Cleo's own client."""
    with schema_context(sunrise.schema_name):
        return Client.objects.create(
            legal_first_name="Erin", legal_last_name="Client", assigned_clinician=cleo
        )


def test_a_clinician_schedules_only_their_own_clients_on_their_own_calendar(
    sunrise, bob, cleo, cleo_browser, carol_record, erin_record, frozen
):
    # Bob's calendar, Bob's client, and Cleo's calendar with Bob's client: all refused.
    for client, clinician in ((erin_record, bob), (carol_record, bob), (carol_record, cleo)):
        response = _schedule(cleo_browser, client, clinician)
        assert response.status_code == 200
        assert "Select a valid choice" in response.content.decode()
    with schema_context(sunrise.schema_name):
        assert not Appointment.objects.exists()

    assert _schedule(cleo_browser, erin_record, cleo).status_code == 302
    with schema_context(sunrise.schema_name):
        assert Appointment.objects.get().clinician == cleo


def test_a_clinician_cannot_move_an_appointment_onto_another_calendar(
    sunrise, bob, cleo, cleo_browser, erin_record, frozen
):
    appointment = appointment_for(sunrise, erin_record, cleo)
    url = f"/practice/appointments/{appointment.pk}/move/"

    cleo_browser.post(url, {"date": "2026-02-03", "time": "11:00", "clinician": bob.pk})
    refresh(sunrise, appointment)
    assert (appointment.start_at, appointment.clinician_id) == (TUESDAY_NINE, cleo.pk)

    cleo_browser.post(url, {"date": "2026-02-03", "time": "11:00", "clinician": cleo.pk})
    refresh(sunrise, appointment)
    assert appointment.start_at == TUESDAY_NINE + timedelta(hours=2)


def test_other_practices_clients_and_visitors_cannot_schedule(
    sunrise,
    bob,
    carol_record,
    carol_browser,
    sunrise_client,
    harbor_professional,
    hana_browser,
    frozen,
):
    for browser in (carol_browser, sunrise_client):
        assert _schedule(browser, carol_record, bob).status_code == 302
    # At harbor, sunrise's ids name nobody ...
    with schema_context(harbor_professional.schema_name):
        assert not Client.objects.filter(pk=carol_record.pk).exists()
    assert _schedule(hana_browser, carol_record, bob).status_code == 200
    # ... and Hana's session means nothing on sunrise's host (the test client sends its
    # cookies to every host, so this comes last: sunrise's answer replaces the cookie).
    hana_browser.defaults["HTTP_HOST"] = "sunrise.localhost"
    response = _schedule(hana_browser, carol_record, bob)
    assert response.status_code == 302 and "/sign-in/" in response["Location"]
    for practice in (sunrise, harbor_professional):
        with schema_context(practice.schema_name):
            assert not Appointment.objects.exists()


def test_staff_move_an_appointment_and_the_client_gets_an_updated_calendar_file(
    sunrise, bob, cleo, alice_browser, carol_record, dave_record, after_commit, frozen
):
    appointment = appointment_for(sunrise, carol_record, bob)
    appointment_for(sunrise, dave_record, cleo, start=TUESDAY_NINE + timedelta(hours=3))
    url = f"/practice/appointments/{appointment.pk}/move/"

    response = alice_browser.post(
        url, {"date": "2026-02-03", "time": "12:00", "clinician": cleo.pk}
    )
    refresh(sunrise, appointment)
    # 12:00 is Dave's time with Cleo: refused, nothing changes, and the form keeps the choice.
    assert (appointment.start_at, appointment.clinician_id) == (TUESDAY_NINE, bob.pk)
    assert response.status_code == 200
    page = response.content.decode()
    assert "Cleo Clinician already has an appointment at that time." in page
    assert "someone else" not in page
    assert 'value="2026-02-03"' in page and 'value="12:00"' in page
    assert f'<option value="{cleo.pk}" selected>' in page

    mail.outbox.clear()
    with after_commit():
        alice_browser.post(url, {"date": "2026-02-03", "time": "11:00", "clinician": cleo.pk})
    refresh(sunrise, appointment)
    assert appointment.start_at == datetime(2026, 2, 3, 16, tzinfo=UTC)
    assert appointment.clinician_id == cleo.pk
    assert appointment.end_at - appointment.start_at == timedelta(minutes=50)
    (message,) = mail.outbox
    assert "SEQUENCE:1" in str(message.attachments[0][1])


@pytest.mark.parametrize(
    ("day", "at", "error"),
    [
        ("9999-12-31", "23:30", "Choose a date within two years from today."),
        ("0001-01-01", "00:00", "This date has passed."),
        ("2026-02-02", "08:00", "This time has passed."),
    ],
)
def test_staff_move_appointments_only_from_now_to_two_years_ahead(
    sunrise, bob, alice_browser, carol_record, frozen, after_commit, day, at, error
):
    appointment = appointment_for(sunrise, carol_record, bob)
    url = f"/practice/appointments/{appointment.pk}/move/"
    with after_commit():
        response = alice_browser.post(
            url, {"date": day, "time": at, "clinician": bob.pk}, follow=True
        )
    assert response.status_code == 200
    assert error in response.content.decode()
    refresh(sunrise, appointment)
    assert (appointment.start_at, appointment.sequence) == (TUESDAY_NINE, 0)
    assert not mail.outbox


def test_far_dates_schedule_and_move_nothing_for_clients_or_other_practices(
    sunrise, bob, carol_record, carol_browser, harbor_professional, hana_browser, frozen
):
    appointment = appointment_for(sunrise, carol_record, bob)
    far = {"date": "9999-12-31", "time": "23:30"}
    move = f"/practice/appointments/{appointment.pk}/move/"
    response = _schedule(carol_browser, carol_record, bob, **far)
    assert response.status_code == 302 and "/practice/sign-in/" in response["Location"]
    response = carol_browser.post(move, {**far, "clinician": bob.pk})
    assert response.status_code == 302 and "/practice/sign-in/" in response["Location"]
    assert hana_browser.post(move, {**far, "clinician": bob.pk}).status_code == 404
    assert _schedule(hana_browser, carol_record, bob, **far).status_code == 200
    refresh(sunrise, appointment)
    assert appointment.start_at == TUESDAY_NINE
    for practice in (sunrise, harbor_professional):
        with schema_context(practice.schema_name):
            assert Appointment.objects.count() == (practice == sunrise)


def test_a_refused_move_keeps_what_was_typed(sunrise, bob, alice_browser, carol_record, frozen):
    appointment = appointment_for(sunrise, carol_record, bob)
    url = f"/practice/appointments/{appointment.pk}/move/"

    response = alice_browser.post(url, {"date": "2026-02-06", "time": "15:00", "clinician": "0"})
    assert response.status_code == 200
    page = response.content.decode()
    assert "Select a valid choice" in page
    assert 'value="2026-02-06"' in page and 'value="15:00"' in page
    refresh(sunrise, appointment)
    assert (appointment.start_at, appointment.clinician_id) == (TUESDAY_NINE, bob.pk)


def test_a_move_onto_the_appointments_own_time_is_not_a_conflict(
    sunrise, bob, alice_browser, carol_record, frozen
):
    appointment = appointment_for(sunrise, carol_record, bob)
    url = f"/practice/appointments/{appointment.pk}/move/"
    response = alice_browser.post(url, {"date": "2026-02-03", "time": "09:30", "clinician": bob.pk})
    assert response.status_code == 302
    refresh(sunrise, appointment)
    assert appointment.start_at == TUESDAY_NINE + timedelta(minutes=30)


def test_the_client_page_lists_the_clients_appointments(
    sunrise, bob, alice_browser, carol_record, dave_record
):
    mine = appointment_for(sunrise, carol_record, bob)
    other = appointment_for(sunrise, dave_record, bob, start=TUESDAY_NINE + timedelta(hours=2))
    with time_machine.travel(TUESDAY_NINE - timedelta(days=1), tick=False):
        page = alice_browser.get(f"/practice/clients/{carol_record.pk}/").content.decode()
    assert 'id="appointments-panel-heading"' in page
    assert f"/practice/appointments/{mine.pk}/" in page
    assert f"/practice/appointments/{other.pk}/" not in page


def test_a_starter_client_page_has_no_appointments_panel(harbor, hana_browser, ivan_record):
    page = hana_browser.get(f"/practice/clients/{ivan_record.pk}/").content.decode()
    assert "appointments-panel-heading" not in page


@pytest.mark.parametrize("day", ["9999-12-31", "9999-12-30", "0001-01-01", "3000-01-01"])
@pytest.mark.parametrize("view", ["week", "day"])
def test_a_date_outside_the_calendar_shows_today_instead(
    sunrise, bob, alice_browser, carol_record, frozen, day, view
):
    appointment_for(sunrise, carol_record, bob)
    response = alice_browser.get(f"/practice/calendar/?date={day}&view={view}")
    assert response.status_code == 200
    page = response.content.decode()
    assert 'value="2026-02-02"' in page
    assert "Tuesday, February 3" in page if view == "week" else "Monday, February 2" in page


def test_the_calendar_reaches_far_into_the_past_and_future(sunrise, alice_browser, frozen):
    for day, heading in (
        ("1900-01-01", "Monday, January 1"),
        ("2999-12-31", "Tuesday, December 31"),
    ):
        page = alice_browser.get(f"/practice/calendar/?date={day}&view=day").content.decode()
        assert f'value="{day}"' in page and heading in page


def test_far_dates_show_the_staff_calendar_to_nobody_else(
    sunrise, carol_browser, sunrise_client, harbor_professional, hana_browser
):
    url = "/practice/calendar/?date=9999-12-31"
    for browser in (carol_browser, sunrise_client):
        response = browser.get(url)
        assert response.status_code == 302 and "/practice/sign-in/" in response["Location"]
    hana_browser.defaults["HTTP_HOST"] = "sunrise.localhost"
    response = hana_browser.get(url)
    assert response.status_code == 302 and "/practice/sign-in/" in response["Location"]
