"""Appointment emails. They say when and where, link to the portal, and carry an `.ics`;
nothing clinical (no service name, no notes, no staff message)."""

from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils import timezone

from tenant_apps.booking.calendar_files import appointment_calendar
from tenant_apps.booking.models import Appointment
from tenant_apps.booking.services import (
    APPOINTMENT_CANCELLED,
    APPOINTMENT_CONFIRMED,
    APPOINTMENT_DECLINED,
    APPOINTMENT_REMINDER,
    APPOINTMENT_REQUESTED,
)
from tenant_apps.booking.zones import format_moment, practice_zone
from tenant_apps.mail.models import EmailDelivery
from tenant_apps.mail.registry import email_kind
from tenants.hosts import practice_url
from tenants.schemas import current_practice

ICS_TYPE = "text/calendar"

SUBJECTS = {
    APPOINTMENT_REQUESTED: "{practice} received your appointment request",
    APPOINTMENT_CONFIRMED: "Your appointment with {practice} is confirmed",
    APPOINTMENT_DECLINED: "An update on your appointment request with {practice}",
    APPOINTMENT_CANCELLED: "Your appointment with {practice} is cancelled",
    APPOINTMENT_REMINDER: "Reminder: your appointment with {practice}",
}


def _message(
    delivery: EmailDelivery, appointment: Appointment, *, calendar: str | None
) -> EmailMultiAlternatives:
    practice = current_practice()
    body = render_to_string(
        f"booking/emails/{delivery.kind}.txt",
        {
            "practice": practice,
            "when": format_moment(appointment.start_at, practice_zone(practice)),
            "link": practice_url(practice, "/appointments/"),
        },
    )
    message = EmailMultiAlternatives(
        subject=SUBJECTS[delivery.kind].format(practice=practice.name),
        body=body,
        to=[delivery.to_email],
    )
    if calendar is not None:
        content = appointment_calendar(appointment, practice, cancelled=calendar == "cancel")
        method = "CANCEL" if calendar == "cancel" else "PUBLISH"
        message.attach("appointment.ics", content, f"{ICS_TYPE}; method={method}")
    return message


def _appointment(delivery: EmailDelivery) -> Appointment | None:
    return Appointment.objects.filter(pk=delivery.object_id or 0).first()


@email_kind(APPOINTMENT_REQUESTED)
def appointment_requested(delivery: EmailDelivery) -> EmailMultiAlternatives | None:
    appointment = _appointment(delivery)
    if appointment is None or appointment.status != Appointment.Status.REQUESTED:
        return None
    return _message(delivery, appointment, calendar=None)


@email_kind(APPOINTMENT_CONFIRMED)
def appointment_confirmed(delivery: EmailDelivery) -> EmailMultiAlternatives | None:
    appointment = _appointment(delivery)
    if appointment is None or appointment.status != Appointment.Status.CONFIRMED:
        return None
    return _message(delivery, appointment, calendar="publish")


@email_kind(APPOINTMENT_DECLINED)
def appointment_declined(delivery: EmailDelivery) -> EmailMultiAlternatives | None:
    appointment = _appointment(delivery)
    if appointment is None or appointment.status != Appointment.Status.DECLINED:
        return None
    return _message(delivery, appointment, calendar=None)


@email_kind(APPOINTMENT_CANCELLED)
def appointment_cancelled(delivery: EmailDelivery) -> EmailMultiAlternatives | None:
    appointment = _appointment(delivery)
    if appointment is None or appointment.status != Appointment.Status.CANCELLED:
        return None
    return _message(delivery, appointment, calendar="cancel")


@email_kind(APPOINTMENT_REMINDER)
def appointment_reminder(delivery: EmailDelivery) -> EmailMultiAlternatives | None:
    appointment = _appointment(delivery)
    if (
        appointment is None
        or appointment.status != Appointment.Status.CONFIRMED
        or appointment.start_at <= timezone.now()
    ):
        return None
    return _message(delivery, appointment, calendar="publish")
