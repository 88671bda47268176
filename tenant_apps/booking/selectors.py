"""Reads for booking, always scoped to what the asking person may see."""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db import connection
from django.db.models import F, Q, QuerySet
from django.http import Http404

from tenant_apps.accounts.models import Role, User
from tenant_apps.booking.availability import BusyTime, DayChange, Rules, free_slots
from tenant_apps.booking.models import (
    Appointment,
    AvailabilityException,
    BookableService,
    BookingSettings,
    TimeBlock,
    WorkingHours,
)
from tenant_apps.booking.zones import practice_zone
from tenant_apps.clients.models import Client
from tenants.models import Practice

CLINICIAN_ROLES = (Role.OWNER, Role.CLINICIAN)


def _digits(pk: str | int | None) -> bool:
    return str(pk).isdigit()


# Services and clinicians ---------------------------------------------------------------


def bookable_services(*, new_client: bool = False) -> QuerySet[BookableService]:
    services = BookableService.objects.filter(
        is_active=True, bookable_online=True, clinicians__is_active=True
    ).distinct()
    if new_client:
        services = services.filter(new_clients_allowed=True)
    return services


def get_bookable_service(pk: str | int | None, *, new_client: bool = False) -> BookableService:
    found = (
        bookable_services(new_client=new_client).filter(pk=str(pk)).first() if _digits(pk) else None
    )
    if found is None:
        raise Http404("No such service")
    return found


def clinicians_for_service(service: BookableService) -> QuerySet[User]:
    return service.clinicians.filter(role__in=CLINICIAN_ROLES, is_active=True).order_by("full_name")


def get_clinician_for_service(service: BookableService, pk: str | int | None) -> User:
    found = clinicians_for_service(service).filter(pk=str(pk)).first() if _digits(pk) else None
    if found is None:
        raise Http404("No such clinician")
    return found


def practice_clinicians() -> QuerySet[User]:
    return User.objects.filter(role__in=CLINICIAN_ROLES, is_active=True).order_by("full_name")


def all_services() -> QuerySet[BookableService]:
    return BookableService.objects.prefetch_related("clinicians")


def get_service_for_staff(pk: str | int | None) -> BookableService:
    found = BookableService.objects.filter(pk=str(pk)).first() if _digits(pk) else None
    if found is None:
        raise Http404("No such service")
    return found


# Availability --------------------------------------------------------------------------


@dataclass(frozen=True)
class DaySlots:
    day: date
    slots: list[datetime]


def booking_rules(
    practice: Practice, settings: BookingSettings, service: BookableService, *, now: datetime
) -> Rules:
    return Rules(
        time_zone=practice_zone(practice),
        duration=service.duration,
        buffer=timedelta(minutes=settings.buffer_minutes),
        interval=timedelta(minutes=settings.slot_interval_minutes),
        earliest=max(now, now + timedelta(hours=settings.min_notice_hours)),
        latest=now + timedelta(days=settings.max_horizon_days),
    )


def bookable_days(rules: Rules) -> tuple[date, date]:
    """The first and last local dates on which a slot could start."""
    zone = rules.time_zone
    return rules.earliest.astimezone(zone).date(), rules.latest.astimezone(zone).date()


def free_slots_for(
    practice: Practice,
    service: BookableService,
    clinician: User,
    *,
    first_day: date,
    last_day: date,
    now: datetime,
    settings: BookingSettings | None = None,
) -> list[DaySlots]:
    """The clinician's free slots for `service` on each local date from first to last day,
    within the practice's notice and horizon; days without a free slot are left out."""
    settings = settings or BookingSettings.load()
    rules = booking_rules(practice, settings, service, now=now)
    lowest, highest = bookable_days(rules)
    first_day, last_day = max(first_day, lowest), min(last_day, highest)
    if first_day > last_day:
        return []
    zone = rules.time_zone
    # A day's wall times map to instants within about a day of its midnight either way.
    window_start = datetime.combine(first_day, time(0), tzinfo=zone) - timedelta(days=1)
    window_end = datetime.combine(last_day, time(0), tzinfo=zone) + timedelta(days=2)

    weekly: dict[int, list[tuple[time, time]]] = defaultdict(list)
    for weekday, start, end in WorkingHours.objects.filter(clinician=clinician).values_list(
        "weekday", "start_time", "end_time"
    ):
        weekly[weekday].append((start, end))
    changes: dict[date, list[DayChange]] = defaultdict(list)
    for day, kind, change_start, change_end in AvailabilityException.objects.filter(
        clinician=clinician, date__range=(first_day, last_day)
    ).values_list("date", "kind", "start_time", "end_time"):
        changes[day].append(DayChange(kind=kind, start=change_start, end=change_end))
    busy = BusyTime(
        [
            *Appointment.objects.filter(
                clinician=clinician,
                status__in=Appointment.HOLDING_STATUSES,
                start_at__lt=window_end,
                blocks_until__gt=window_start,
            ).values_list("start_at", "blocks_until"),
            *TimeBlock.objects.filter(
                clinician=clinician, start_at__lt=window_end, end_at__gt=window_start
            ).values_list("start_at", "end_at"),
        ]
    )

    days = [first_day + timedelta(days=n) for n in range((last_day - first_day).days + 1)]
    by_day: dict[date, list[datetime]] = defaultdict(list)
    for slot in free_slots(rules, days, weekly=weekly, changes=changes, busy=busy):
        by_day[slot.astimezone(zone).date()].append(slot)
    return [DaySlots(day, by_day[day]) for day in days if by_day.get(day)]


def is_free_slot(
    practice: Practice,
    service: BookableService,
    clinician: User,
    start_at: datetime,
    *,
    now: datetime,
    settings: BookingSettings | None = None,
) -> bool:
    """Whether `start_at` is one of the slots the portal would offer right now.

    The same answer as looking for `start_at` among `free_slots_for` its local date, at the
    cost of one query: only that weekday's hours, that date's exceptions and whether anything
    holds [start_at, start_at + duration + buffer) are loaded. Booking asks this on every
    attempt, so when many clients race for one slot it is most of what the losers pay.
    """
    settings = settings or BookingSettings.load()
    rules = booking_rules(practice, settings, service, now=now)
    if not rules.earliest <= start_at <= rules.latest:
        return False
    day = start_at.astimezone(rules.time_zone).date()
    until = start_at + rules.duration + rules.buffer
    weekly: dict[int, list[tuple[time, time]]] = defaultdict(list)
    changes: list[DayChange] = []
    with connection.cursor() as cursor:
        cursor.execute(
            _SLOT_FACTS_SQL,
            {
                "clinician": clinician.pk,
                "weekday": day.weekday(),
                "day": day,
                "start": start_at,
                "until": until,
                "holding": list(Appointment.HOLDING_STATUSES),
            },
        )
        for kind, start, end in cursor.fetchall():
            if kind == "busy":
                return False
            if kind == "weekly":
                weekly[day.weekday()].append((start, end))
            else:
                changes.append(DayChange(kind=kind, start=start, end=end))
    offered = free_slots(rules, [day], weekly=weekly, changes={day: changes}, busy=BusyTime([]))
    return start_at in offered


# What decides whether one slot is free, in one round trip: the clinician's hours on its
# weekday ("weekly"), the exceptions on its date (their kind), and one "busy" row if a holding
# appointment or blocked time overlaps it.
_SLOT_FACTS_SQL = f"""
    SELECT 'weekly', start_time, end_time FROM {WorkingHours._meta.db_table}
     WHERE clinician_id = %(clinician)s AND weekday = %(weekday)s
    UNION ALL
    SELECT kind, start_time, end_time FROM {AvailabilityException._meta.db_table}
     WHERE clinician_id = %(clinician)s AND date = %(day)s
    UNION ALL
    SELECT 'busy', NULL, NULL
     WHERE EXISTS (
            SELECT FROM {Appointment._meta.db_table}
             WHERE clinician_id = %(clinician)s AND status = ANY(%(holding)s)
               AND start_at < %(until)s AND blocks_until > %(start)s
           )
        OR EXISTS (
            SELECT FROM {TimeBlock._meta.db_table}
             WHERE clinician_id = %(clinician)s AND start_at < %(until)s AND end_at > %(start)s
           )
"""


# Appointments --------------------------------------------------------------------------


def _with_relations(appointments: QuerySet[Appointment]) -> QuerySet[Appointment]:
    return appointments.select_related("client", "clinician", "service")


def appointments_for_client(client: Client) -> QuerySet[Appointment]:
    return _with_relations(Appointment.objects.filter(client=client))


def held_by_client(
    client: Client, *, service: BookableService, clinician: User, start_at: datetime
) -> Appointment | None:
    """The client's own live appointment at exactly this time: what a booking sent twice
    (a double click) made the first time."""
    return (
        appointments_for_client(client)
        .filter(
            service=service,
            clinician=clinician,
            start_at=start_at,
            status__in=Appointment.HOLDING_STATUSES,
        )
        .first()
    )


def get_appointment_for_client(client: Client, pk: str | int | None) -> Appointment:
    found = appointments_for_client(client).filter(pk=str(pk)).first() if _digits(pk) else None
    if found is None:
        raise Http404("No such appointment")
    return found


def sees_every_calendar(user: User) -> bool:
    return user.role == Role.OWNER or (
        user.role == Role.CLINICIAN and user.has_practice_wide_access
    )


def appointments_for_staff(user: User) -> QuerySet[Appointment]:
    """Owners (and clinicians with practice-wide access) see every appointment; a clinician
    sees their own; billers see none."""
    appointments = _with_relations(Appointment.objects.all())
    if sees_every_calendar(user):
        return appointments
    if user.role == Role.CLINICIAN:
        return appointments.filter(clinician=user)
    return appointments.none()


def get_appointment_for_staff(user: User, pk: str | int | None) -> Appointment:
    found = appointments_for_staff(user).filter(pk=str(pk)).first() if _digits(pk) else None
    if found is None:
        raise Http404("No such appointment")
    return found


def calendar_clinicians(user: User) -> QuerySet[User]:
    if sees_every_calendar(user):
        return practice_clinicians()
    if user.role == Role.CLINICIAN:
        return practice_clinicians().filter(pk=user.pk)
    return practice_clinicians().none()


def get_calendar_clinician(user: User, pk: str | int | None) -> User:
    found = calendar_clinicians(user).filter(pk=str(pk)).first() if _digits(pk) else None
    if found is None:
        raise Http404("No such clinician")
    return found


def calendar_entries(
    user: User, *, clinicians: list[User], start: datetime, end: datetime
) -> QuerySet[Appointment]:
    return appointments_for_staff(user).filter(
        clinician__in=clinicians,
        start_at__lt=end,
        end_at__gt=start,
        status__in=Appointment.HOLDING_STATUSES,
    )


def calendar_blocks(
    clinicians: list[User], *, start: datetime, end: datetime
) -> QuerySet[TimeBlock]:
    return TimeBlock.objects.filter(
        clinician__in=clinicians, start_at__lt=end, end_at__gt=start
    ).select_related("clinician")


def pending_requests(user: User) -> QuerySet[Appointment]:
    return appointments_for_staff(user).filter(status=Appointment.Status.REQUESTED)


def clients_for_scheduling(user: User) -> QuerySet[Client]:
    from tenant_apps.clients.selectors import clients_for_staff

    return clients_for_staff(user).exclude(status=Client.Status.INACTIVE)


def get_exception_for_clinician(clinician: User, pk: str | int | None) -> AvailabilityException:
    found = (
        AvailabilityException.objects.filter(clinician=clinician, pk=str(pk)).first()
        if _digits(pk)
        else None
    )
    if found is None:
        raise Http404("No such exception")
    return found


def get_block_for_clinician(clinician: User, pk: str | int | None) -> TimeBlock:
    found = (
        TimeBlock.objects.filter(clinician=clinician, pk=str(pk)).first() if _digits(pk) else None
    )
    if found is None:
        raise Http404("No such blocked time")
    return found


def due_reminders(settings: BookingSettings, *, now: datetime) -> QuerySet[Appointment]:
    """Confirmed appointments whose reminder time has come and whose current start time has
    not had a reminder queued yet."""
    return Appointment.objects.filter(
        Q(reminder_queued_for__isnull=True) | ~Q(reminder_queued_for=F("start_at")),
        status=Appointment.Status.CONFIRMED,
        start_at__gt=now,
        start_at__lte=now + timedelta(hours=settings.reminder_lead_hours),
    )
