"""`.ics` attachments for appointment emails (RFC 5545, built with `icalendar`).

They carry the practice's name, the time and the place, and nothing clinical: no service
name, no clinician's specialty, no notes. A cancelled appointment gets METHOD:CANCEL with
the same UID and a higher SEQUENCE, so calendar apps remove the event they imported.
"""

from datetime import UTC, datetime

from icalendar import Calendar, Event

from tenant_apps.booking.models import Appointment, Location
from tenants.models import Practice

PRODUCT_ID = "-//Swasth for Clinicians//Appointments//EN"


def appointment_uid(appointment: Appointment, practice: Practice) -> str:
    return f"appointment-{appointment.pk}@{practice.primary_domain}"


def _location(appointment: Appointment, practice: Practice) -> str:
    if appointment.location == Location.TELEHEALTH:
        return "Telehealth (see your Client Portal)"
    if practice.show_address_to_clients and practice.display_address_lines:
        return ", ".join([practice.name, *practice.display_address_lines])
    return practice.name


def appointment_calendar(
    appointment: Appointment, practice: Practice, *, cancelled: bool = False
) -> bytes:
    calendar = Calendar()
    calendar.add("prodid", PRODUCT_ID)
    calendar.add("version", "2.0")
    calendar.add("method", "CANCEL" if cancelled else "PUBLISH")

    event = Event()
    event.add("uid", appointment_uid(appointment, practice))
    event.add("dtstamp", datetime.now(UTC))
    event.add("dtstart", appointment.start_at.astimezone(UTC))
    event.add("dtend", appointment.end_at.astimezone(UTC))
    event.add("sequence", appointment.sequence)
    event.add("summary", f"Appointment with {practice.name}")
    event.add("location", _location(appointment, practice))
    event.add("description", f"Details are in your Client Portal: {practice.portal_url}")
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    calendar.add_component(event)
    return calendar.to_ical()
