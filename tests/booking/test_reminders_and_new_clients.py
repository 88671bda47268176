"""Reminders queued by the periodic task, once per start time; new clients booking from the
practice's page."""

from datetime import UTC, datetime, timedelta

import time_machine
from django.core import mail
from django_tenants.utils import schema_context

from tenant_apps.booking import services
from tenant_apps.booking.models import Appointment, BookingSettings
from tenant_apps.booking.tasks import queue_reminders_everywhere
from tenant_apps.clients.models import Client
from tenant_apps.mail.models import EmailDelivery
from tests.booking.conftest import enable_booking, refresh
from tests.conftest import host_client

TUESDAY_NINE = datetime(2026, 2, 3, 14, tzinfo=UTC)


def confirmed(practice, client, clinician, start=TUESDAY_NINE) -> Appointment:
    with schema_context(practice.schema_name):
        return Appointment.objects.create(
            client=client,
            clinician=clinician,
            start_at=start,
            end_at=start + timedelta(minutes=50),
            blocks_until=start + timedelta(hours=1),
            status="confirmed",
            source="staff",
        )


def reminders(practice) -> list[str]:
    with schema_context(practice.schema_name):
        return list(
            EmailDelivery.objects.filter(kind=services.APPOINTMENT_REMINDER).values_list(
                "key", flat=True
            )
        )


def test_a_reminder_is_queued_when_its_lead_time_comes_and_only_once(
    sunrise, bob, carol_record, booking_on, after_commit
):
    appointment = confirmed(sunrise, carol_record, bob)
    with time_machine.travel(TUESDAY_NINE - timedelta(hours=24, seconds=1), tick=False):
        assert queue_reminders_everywhere() == 0
    with time_machine.travel(TUESDAY_NINE - timedelta(hours=24), tick=False), after_commit():
        assert queue_reminders_everywhere() == 1
    with time_machine.travel(TUESDAY_NINE - timedelta(hours=2), tick=False), after_commit():
        assert queue_reminders_everywhere() == 0

    (message,) = mail.outbox
    assert message.subject == "Reminder: your appointment with Sunrise Therapy"
    assert "Tuesday, February 3, 2026, 9:00 AM EST" in message.body
    ((_name, _content, mimetype),) = message.attachments
    assert mimetype == "text/calendar; method=PUBLISH"
    assert reminders(sunrise) == [f"appointment_reminder:{appointment.pk}:0:20260203T1400"]


def test_the_practice_chooses_the_lead_time(sunrise, bob, carol_record, booking_on):
    enable_booking(sunrise, reminder_lead_hours=BookingSettings.ReminderLead.THREE_DAYS)
    confirmed(sunrise, carol_record, bob)
    with time_machine.travel(TUESDAY_NINE - timedelta(hours=72), tick=False):
        assert queue_reminders_everywhere() == 1


def test_a_moved_appointment_gets_a_new_reminder(sunrise, bob, alice, carol_record, booking_on):
    appointment = confirmed(sunrise, carol_record, bob)
    with time_machine.travel(TUESDAY_NINE - timedelta(hours=20), tick=False):
        assert queue_reminders_everywhere() == 1
        with schema_context(sunrise.schema_name):
            services.move_appointment(
                appointment, actor=alice, start_at=TUESDAY_NINE + timedelta(hours=3), clinician=bob
            )
        assert queue_reminders_everywhere() == 1
    assert len(reminders(sunrise)) == 2


def test_cancelled_and_requested_appointments_get_no_reminder(
    sunrise, bob, carol_record, booking_on
):
    appointment = confirmed(sunrise, carol_record, bob)
    with schema_context(sunrise.schema_name):
        Appointment.objects.filter(pk=appointment.pk).update(status="cancelled")
        confirmed(sunrise, carol_record, bob, start=TUESDAY_NINE + timedelta(hours=2))
        Appointment.objects.filter(start_at=TUESDAY_NINE + timedelta(hours=2)).update(
            status="requested"
        )
    with time_machine.travel(TUESDAY_NINE - timedelta(hours=1), tick=False):
        assert queue_reminders_everywhere() == 0


def test_a_starter_practice_is_skipped(harbor, hana, ivan_record):
    with schema_context(harbor.schema_name):
        Appointment.objects.create(
            client=ivan_record,
            clinician=hana,
            start_at=TUESDAY_NINE,
            end_at=TUESDAY_NINE + timedelta(hours=1),
            blocks_until=TUESDAY_NINE + timedelta(hours=1),
            status="confirmed",
            source="staff",
        )
    with time_machine.travel(TUESDAY_NINE - timedelta(hours=1), tick=False):
        assert queue_reminders_everywhere() == 0


# New clients ----------------------------------------------------------------------------


def test_new_clients_cannot_book_unless_the_practice_allows_it(
    sunrise, booking_on, consult_service
):
    assert host_client("sunrise.localhost").get("/book/").status_code == 404


def test_a_new_client_requests_a_slot_and_becomes_a_prospective_client(
    sunrise, bob, consult_service, session_service, frozen, after_commit
):
    enable_booking(sunrise, audience=BookingSettings.Audience.NEW_TOO)
    browser = host_client("sunrise.localhost")
    listing = browser.get("/book/").content.decode()
    assert "First consultation" in listing and "Follow-up session" not in listing
    assert browser.get(f"/book/{session_service.pk}/").status_code == 404

    with after_commit():
        response = browser.post(
            f"/book/{consult_service.pk}/{bob.pk}/confirm/",
            {
                "start": "2026-02-03T14:00:00Z",
                "first_name": "Nia",
                "last_name": "Newman",
                "email": "Nia@Client.test",
                "phone": "(212) 555-0188",
            },
        )
    assert b"is with Sunrise Therapy" in response.content
    with schema_context(sunrise.schema_name):
        nia = Client.objects.get(email="nia@client.test")
        appointment = Appointment.objects.get(client=nia)
    assert nia.status == Client.Status.PROSPECTIVE and nia.mobile_phone == "+12125550188"
    # Even an instant service would wait: the address is not verified.
    assert appointment.status == "requested" and appointment.source == "new_client"
    (message,) = mail.outbox
    assert message.to == ["nia@client.test"]
    assert message.subject == "Sunrise Therapy received your appointment request"


def test_a_known_address_joins_the_existing_record_and_the_page_says_the_same(
    sunrise, bob, carol_record, consult_service, frozen
):
    enable_booking(sunrise, audience=BookingSettings.Audience.NEW_TOO)
    response = host_client("sunrise.localhost").post(
        f"/book/{consult_service.pk}/{bob.pk}/confirm/",
        {
            "start": "2026-02-03T14:00:00Z",
            "first_name": "Someone",
            "last_name": "Else",
            "email": carol_record.email,
        },
    )
    assert b"is with Sunrise Therapy" in response.content
    with schema_context(sunrise.schema_name):
        assert Client.objects.filter(email=carol_record.email).count() == 1
        assert Appointment.objects.get().client_id == carol_record.pk
    refresh(sunrise, carol_record)
    assert carol_record.legal_first_name == "Carol"


def test_a_bot_filling_the_hidden_field_books_nothing(sunrise, bob, consult_service, frozen):
    enable_booking(sunrise, audience=BookingSettings.Audience.NEW_TOO)
    host_client("sunrise.localhost").post(
        f"/book/{consult_service.pk}/{bob.pk}/confirm/",
        {
            "start": "2026-02-03T14:00:00Z",
            "first_name": "B",
            "last_name": "Ot",
            "email": "bot@example.test",
            "website": "http://spam.example",
        },
    )
    with schema_context(sunrise.schema_name):
        assert not Appointment.objects.exists()
        assert not Client.objects.filter(email="bot@example.test").exists()
