"""Writes for booking: settings, services, hours, and the life of an appointment."""

import logging
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import date, datetime, time, timedelta

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.http import HttpRequest
from django.utils import timezone

from config.celery import enqueue_on_commit
from tenant_apps.accounts.models import User, normalize_email
from tenant_apps.audit.services import record_event
from tenant_apps.booking import selectors
from tenant_apps.booking.models import (
    Appointment,
    AvailabilityException,
    BookableService,
    BookingSettings,
    Location,
    TimeBlock,
    WorkingHours,
)
from tenant_apps.clients.models import Client
from tenant_apps.mail.models import EmailDelivery
from tenant_apps.mail.services import queue_email
from tenants.models import Practice

logger = logging.getLogger(__name__)

APPOINTMENT_REQUESTED = "appointment_requested"
APPOINTMENT_CONFIRMED = "appointment_confirmed"
APPOINTMENT_DECLINED = "appointment_declined"
APPOINTMENT_CANCELLED = "appointment_cancelled"
APPOINTMENT_REMINDER = "appointment_reminder"

SLOT_TAKEN_MESSAGE = "Sorry, someone else has just taken this time. Please choose another time."
SLOT_UNAVAILABLE_MESSAGE = "This time is not available. Please choose another time."
CANCEL_CLOSED_MESSAGE = (
    "This appointment can no longer be cancelled online. Please call the practice."
)


class SlotTaken(ValidationError):
    """Another appointment holds (part of) this time; the database refused the second one."""

    def __init__(self) -> None:
        super().__init__(SLOT_TAKEN_MESSAGE, code="slot_taken")


class BookingError(ValidationError):
    pass


class ClinicianBusy(BookingError):
    """Staff asked for a time that overlaps (buffer included) one of the clinician's
    appointments: not a race lost to someone else, so they are told whose calendar it is."""

    def __init__(self, clinician: User) -> None:
        super().__init__(
            f"{clinician.full_name} already has an appointment at that time. "
            "Choose another time or clinician.",
            code="clinician_busy",
        )


def _is_exclusion_violation(error: IntegrityError) -> bool:
    return getattr(error.__cause__, "sqlstate", None) == "23P01"


# Settings, services and hours ----------------------------------------------------------


def save_booking_settings(
    settings: BookingSettings, *, actor: User, changed: list[str]
) -> BookingSettings:
    with transaction.atomic():
        settings.save(update_fields=changed or None)
        record_event(actor, "booking.settings_changed", target=settings, fields=sorted(changed))
    return settings


def save_service(
    service: BookableService, *, actor: User, clinicians: Iterable[User]
) -> BookableService:
    creating = service.pk is None
    with transaction.atomic():
        service.save()
        service.clinicians.set(list(clinicians))
        record_event(
            actor,
            "booking.service_created" if creating else "booking.service_changed",
            target=service,
        )
    return service


def set_weekly_hours(
    clinician: User, *, actor: User, hours: Iterable[tuple[int, time, time]]
) -> list[WorkingHours]:
    """Replace the clinician's whole weekly pattern."""
    rows = [
        WorkingHours(clinician=clinician, weekday=d, start_time=s, end_time=e) for d, s, e in hours
    ]
    with transaction.atomic():
        WorkingHours.objects.filter(clinician=clinician).delete()
        created = WorkingHours.objects.bulk_create(rows)
        record_event(actor, "booking.hours_changed", target=clinician, intervals=len(rows))
    return created


def add_exception(
    clinician: User, *, actor: User, day: date, kind: str, start: time | None, end: time | None
) -> AvailabilityException:
    with transaction.atomic():
        exception = AvailabilityException.objects.create(
            clinician=clinician, date=day, kind=kind, start_time=start, end_time=end
        )
        record_event(actor, "booking.exception_added", target=exception, clinician=clinician.pk)
    return exception


def remove_exception(exception: AvailabilityException, *, actor: User) -> None:
    with transaction.atomic():
        record_event(actor, "booking.exception_removed", target=exception)
        exception.delete()


def block_time(clinician: User, *, actor: User, start_at: datetime, end_at: datetime) -> TimeBlock:
    if start_at >= end_at:
        raise BookingError("The end must be after the start.")
    with transaction.atomic():
        block = TimeBlock.objects.create(
            clinician=clinician, start_at=start_at, end_at=end_at, created_by=actor
        )
        record_event(actor, "booking.time_blocked", target=block, clinician=clinician.pk)
    return block


def unblock_time(block: TimeBlock, *, actor: User) -> None:
    with transaction.atomic():
        record_event(actor, "booking.time_unblocked", target=block)
        block.delete()


# Notifications -------------------------------------------------------------------------


def _notify(appointment: Appointment, kind: str, *, key_suffix: str = "") -> None:
    """Queue an email about the appointment to the client, after commit, once per key.

    Clients without a portal account (new clients booking from the practice's page) are
    written to at the address they gave.
    """
    key = f"{kind}:{appointment.pk}:{appointment.sequence}{key_suffix}"
    client = appointment.client
    if client.user_id is not None:
        queue_email(
            kind=kind,
            key=key,
            recipient=User.objects.get(pk=client.user_id),
            object_id=appointment.pk,
        )
        return
    if not client.email:
        return
    try:
        with transaction.atomic():
            delivery = EmailDelivery.objects.create(
                key=key, kind=kind, to_email=client.email, object_id=appointment.pk
            )
    except IntegrityError:
        return
    from tenant_apps.mail.tasks import deliver_email

    enqueue_on_commit(deliver_email, delivery.pk)


# Booking -------------------------------------------------------------------------------


def _lock_calendar(clinician_id: int) -> None:
    """Queue writers of one clinician's calendar until the current transaction ends.

    The exclusion constraint is what refuses a double booking. But when two transactions
    insert overlapping rows at the same moment, each waits for the other's uncommitted row,
    and PostgreSQL breaks that deadlock only after `deadlock_timeout` by failing one of them
    with a deadlock error: slow, and not the clear refusal a client should get. Taking this
    transaction-scoped advisory lock first makes the later insert meet a committed row and
    fail at once. The key is (schema, clinician), so practices never wait for each other.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(hashtext(current_schema()), %s)",
            [clinician_id % 2**31],
        )


def _claim_calendar(clinician_id: int, *, start_at: datetime, blocks_until: datetime) -> None:
    """Take the clinician's calendar lock for a client's booking, or fail fast if, by the time
    it is free, another booking already holds this time.

    Twenty clients pressing "Book" on one slot would otherwise queue on `_lock_calendar` and
    be refused one after another, each holding the lock for its own failed insert. Instead,
    whoever finds the lock taken waits only until its holder finishes (a shared session lock,
    taken and dropped in one statement, so all the waiters wake together and none of them
    holds anything), then looks again: a holding appointment over this time means the slot is
    gone (SlotTaken, at once, for every waiter in parallel); otherwise it queues as a writer
    after all. The check is only a shortcut: whoever inserts holds the lock, and the
    exclusion constraint still has the last word.
    """
    key = clinician_id % 2**31
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(hashtext(current_schema()), %s)", [key])
        (locked,) = cursor.fetchone()
        if locked:
            return
        cursor.execute(
            "SELECT pg_advisory_lock_shared(hashtext(current_schema()), %(key)s),"
            " pg_advisory_unlock_shared(hashtext(current_schema()), %(key)s)",
            {"key": key},
        )
        # A new statement, so (read committed) it sees what the holder committed. Plain SQL:
        # building the ORM query cost a loser more CPU than anything else on its way out.
        cursor.execute(
            f"SELECT EXISTS (SELECT FROM {Appointment._meta.db_table} WHERE clinician_id = %s"
            " AND status = ANY(%s) AND start_at < %s AND blocks_until > %s)",
            [clinician_id, list(Appointment.HOLDING_STATUSES), blocks_until, start_at],
        )
        (taken,) = cursor.fetchone()
    if taken:
        logger.debug("Booking refused after waiting: clinician %s slot taken", clinician_id)
        raise SlotTaken()
    _lock_calendar(clinician_id)


@contextmanager
def _overlaps_refused(
    clinician_id: int, *, refusal: Callable[[], ValidationError] = SlotTaken
) -> Iterator[None]:
    """Turn the exclusion constraint's refusal into `refusal()`: SlotTaken for a client.

    Wrap it around the whole `transaction.atomic()` block of the insert: leaving the block
    rolls back (to its own savepoint when nested), so the insert needs no savepoint of its
    own and the caller's transaction stays usable after the refusal.
    """
    try:
        yield
    except IntegrityError as error:
        if _is_exclusion_violation(error):
            logger.info("Booking refused by the database: clinician %s slot taken", clinician_id)
            raise refusal() from error
        raise


def book_appointment(
    *,
    practice: Practice,
    client: Client,
    service: BookableService,
    clinician: User,
    start_at: datetime,
    actor: User | None,
    source: str = Appointment.Source.PORTAL,
    request: HttpRequest | None = None,
) -> Appointment:
    """A client books (instant services) or requests (the others) one of the offered slots.

    The slot is checked against what the portal offers (hours, notice, horizon, busy time),
    then inserted; two clients racing for one slot both pass the check, and the database's
    exclusion constraint lets exactly one insert through. Those who lose are told so as soon
    as the winner commits (see `_claim_calendar`).
    """
    now = timezone.now()
    settings = BookingSettings.load()
    if not selectors.is_free_slot(
        practice, service, clinician, start_at, now=now, settings=settings
    ):
        raise BookingError(SLOT_UNAVAILABLE_MESSAGE, code="unavailable")

    instant = service.mode == BookableService.Mode.INSTANT and source == Appointment.Source.PORTAL
    end_at = start_at + service.duration
    appointment = Appointment(
        client=client,
        clinician=clinician,
        service=service,
        start_at=start_at,
        end_at=end_at,
        blocks_until=end_at + timedelta(minutes=settings.buffer_minutes),
        location=service.location,
        status=Appointment.Status.CONFIRMED if instant else Appointment.Status.REQUESTED,
        source=source,
        booked_by=actor,
        decided_at=now if instant else None,
    )
    with _overlaps_refused(clinician.pk), transaction.atomic():
        _claim_calendar(
            clinician.pk, start_at=appointment.start_at, blocks_until=appointment.blocks_until
        )
        appointment.save()
        _notify(appointment, APPOINTMENT_CONFIRMED if instant else APPOINTMENT_REQUESTED)
        record_event(
            actor,
            "booking.booked" if instant else "booking.requested",
            target=appointment,
            request=request,
            client=client.pk,
            clinician=clinician.pk,
        )
    return appointment


def request_as_new_client(
    *,
    practice: Practice,
    service: BookableService,
    clinician: User,
    start_at: datetime,
    first_name: str,
    last_name: str,
    email: str,
    phone: str,
    request: HttpRequest | None = None,
) -> Appointment:
    """Someone without a portal account books from the practice's page.

    A prospective client record is created with their details, and the booking always waits
    for staff: the address is not verified, so it must not confirm a slot on its own. If the
    address belongs to a known client, the request joins that record (the page answers the
    same either way, so it reveals nothing about who is a client).
    """
    email = normalize_email(email)
    with transaction.atomic():
        client = Client.objects.filter(email=email, contact_of__isnull=True).first()
        if client is None:
            client = Client.objects.create(
                legal_first_name=first_name,
                legal_last_name=last_name,
                email=email,
                mobile_phone=phone,
                status=Client.Status.PROSPECTIVE,
                requested_access_at=timezone.now(),
            )
            record_event(None, "client.created_by_booking", target=client, request=request)
        return book_appointment(
            practice=practice,
            client=client,
            service=service,
            clinician=clinician,
            start_at=start_at,
            actor=None,
            source=Appointment.Source.NEW_CLIENT,
            request=request,
        )


def _locked(appointment: Appointment) -> Appointment:
    return (
        Appointment.objects.select_for_update(of=("self",))
        .select_related("client", "clinician", "service")
        .get(pk=appointment.pk)
    )


def _answer_request(
    appointment: Appointment, *, actor: User, message: str, status: str, email_kind: str
) -> Appointment:
    with transaction.atomic():
        locked = _locked(appointment)
        if locked.status != Appointment.Status.REQUESTED:
            raise BookingError("This request was already answered.")
        locked.status = status
        locked.decided_by, locked.decided_at = actor, timezone.now()
        locked.decision_message = message
        locked.sequence += 1
        locked.save(
            update_fields=["status", "decided_by", "decided_at", "decision_message", "sequence"]
        )
        _notify(locked, email_kind)
        action = "approved" if status == Appointment.Status.CONFIRMED else "declined"
        record_event(actor, f"booking.{action}", target=locked)
    return locked


def approve_request(appointment: Appointment, *, actor: User, message: str = "") -> Appointment:
    return _answer_request(
        appointment,
        actor=actor,
        message=message,
        status=Appointment.Status.CONFIRMED,
        email_kind=APPOINTMENT_CONFIRMED,
    )


def decline_request(appointment: Appointment, *, actor: User, message: str = "") -> Appointment:
    return _answer_request(
        appointment,
        actor=actor,
        message=message,
        status=Appointment.Status.DECLINED,
        email_kind=APPOINTMENT_DECLINED,
    )


def cancel_by_client(appointment: Appointment, *, actor: User, practice: Practice) -> Appointment:
    """Online cancellation ends when the practice's cancellation window begins."""
    with transaction.atomic():
        locked = _locked(appointment)
        if not locked.can_cancel_at(
            timezone.now(), notice_hours=practice.cancellation_notice_hours
        ):
            raise BookingError(CANCEL_CLOSED_MESSAGE, code="window_closed")
        return _cancel(locked, actor=actor, late=False)


def cancel_by_staff(appointment: Appointment, *, actor: User, late: bool) -> Appointment:
    """Staff can always cancel, and say whether it counts as a late cancellation."""
    with transaction.atomic():
        locked = _locked(appointment)
        if not locked.is_holding:
            raise BookingError("This appointment is not active.")
        return _cancel(locked, actor=actor, late=late)


def _cancel(locked: Appointment, *, actor: User, late: bool) -> Appointment:
    locked.status = Appointment.Status.CANCELLED
    locked.cancelled_by, locked.cancelled_at = actor, timezone.now()
    locked.late_cancellation = late
    locked.sequence += 1
    locked.save(
        update_fields=["status", "cancelled_by", "cancelled_at", "late_cancellation", "sequence"]
    )
    _notify(locked, APPOINTMENT_CANCELLED)
    record_event(actor, "booking.cancelled", target=locked, late=late)
    return locked


def schedule_by_staff(
    *,
    actor: User,
    client: Client,
    clinician: User,
    start_at: datetime,
    duration_minutes: int,
    location: str = Location.OFFICE,
    service: BookableService | None = None,
) -> Appointment:
    """Staff put an appointment on the calendar; it is confirmed at once. Working hours do
    not bind staff, but the database still refuses a double booking."""
    end_at = start_at + timedelta(minutes=duration_minutes)
    appointment = Appointment(
        client=client,
        clinician=clinician,
        service=service,
        start_at=start_at,
        end_at=end_at,
        blocks_until=end_at,
        location=location,
        status=Appointment.Status.CONFIRMED,
        source=Appointment.Source.STAFF,
        booked_by=actor,
        decided_by=actor,
        decided_at=timezone.now(),
    )
    with (
        _overlaps_refused(clinician.pk, refusal=lambda: ClinicianBusy(clinician)),
        transaction.atomic(),
    ):
        _lock_calendar(clinician.pk)
        appointment.save()
        _notify(appointment, APPOINTMENT_CONFIRMED)
        record_event(actor, "booking.scheduled", target=appointment, clinician=clinician.pk)
    return appointment


def move_appointment(
    appointment: Appointment, *, actor: User, start_at: datetime, clinician: User
) -> Appointment:
    """Move to a new time or clinician, keeping the length and trailing buffer."""
    with transaction.atomic():
        locked = _locked(appointment)
        if not locked.is_holding:
            raise BookingError("Only requested or confirmed appointments can move.")
        length = locked.end_at - locked.start_at
        buffer = locked.blocks_until - locked.end_at
        locked.start_at, locked.end_at = start_at, start_at + length
        locked.blocks_until = locked.end_at + buffer
        locked.clinician = clinician
        locked.sequence += 1
        _lock_calendar(clinician.pk)
        with (
            _overlaps_refused(clinician.pk, refusal=lambda: ClinicianBusy(clinician)),
            transaction.atomic(),
        ):
            locked.save(
                update_fields=["start_at", "end_at", "blocks_until", "clinician", "sequence"]
            )
        if locked.status == Appointment.Status.CONFIRMED:
            _notify(locked, APPOINTMENT_CONFIRMED)
        record_event(actor, "booking.moved", target=locked, clinician=clinician.pk)
    return locked


# Reminders -----------------------------------------------------------------------------


def queue_due_reminders(*, now: datetime | None = None) -> int:
    """Queue a reminder for every confirmed appointment whose reminder time has come.

    Run by Celery beat every few minutes instead of one far-future countdown per appointment:
    Redis redelivers unacknowledged countdown tasks after its visibility timeout, so long
    countdowns would be sent twice or more. The email's unique key (appointment, start time)
    is the idempotency record, and `reminder_queued_for` keeps the scan small.
    """
    now = now or timezone.now()
    settings = BookingSettings.load()
    queued = 0
    for appointment in selectors.due_reminders(settings, now=now).select_related("client"):
        with transaction.atomic():
            locked = _locked(appointment)
            if locked.reminder_queued_for == locked.start_at:
                continue
            _notify(locked, APPOINTMENT_REMINDER, key_suffix=f":{locked.start_at:%Y%m%dT%H%M}")
            locked.reminder_queued_for = locked.start_at
            locked.save(update_fields=["reminder_queued_for"])
            queued += 1
    if queued:
        logger.info("Queued %s appointment reminder(s)", queued)
    return queued
