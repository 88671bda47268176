"""Online booking: the practice's settings, bookable services, clinicians' hours and
appointments.

Times of day (working hours, exceptions) are wall-clock times in the practice's zone;
appointments are aware instants, stored in UTC.
"""

from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

from django.conf import settings
from django.contrib.postgres.constraints import ExclusionConstraint
from django.contrib.postgres.fields import DateTimeRangeField, RangeBoundary, RangeOperators
from django.core.cache import cache
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models, transaction

from tenant_apps.clients.models import Client
from tenants import request_memo

SETTINGS_CACHE_KEY = "booking:settings"
SETTINGS_CACHE_SECONDS = 3600


class BookingSettings(models.Model):
    """The practice's own switch and rules for online booking; one row per practice schema.

    The plan decides whether online booking is available at all (`Practice.booking_available`);
    this row decides whether the practice has turned it on.
    """

    class Audience(models.TextChoices):
        EXISTING = "existing", "Existing clients only"
        NEW_TOO = "new_too", "Existing and new clients"

    class ReminderLead(models.IntegerChoices):
        DAY = 24, "24 hours before"
        TWO_DAYS = 48, "48 hours before"
        THREE_DAYS = 72, "72 hours before"

    enabled = models.BooleanField("online booking is on", default=False)
    audience = models.CharField(
        "who may book", max_length=16, choices=Audience.choices, default=Audience.EXISTING
    )
    min_notice_hours = models.PositiveSmallIntegerField(
        "minimum notice (hours)", default=24, validators=[MaxValueValidator(24 * 30)]
    )
    max_horizon_days = models.PositiveSmallIntegerField(
        "book up to (days ahead)",
        default=60,
        validators=[MinValueValidator(1), MaxValueValidator(365)],
    )
    buffer_minutes = models.PositiveSmallIntegerField(
        "buffer between appointments (minutes)", default=10, validators=[MaxValueValidator(120)]
    )
    slot_interval_minutes = models.PositiveSmallIntegerField(
        "slots start every (minutes)",
        default=30,
        validators=[MinValueValidator(5), MaxValueValidator(240)],
    )
    reminder_lead_hours = models.PositiveSmallIntegerField(
        "send reminders", choices=ReminderLead.choices, default=ReminderLead.DAY
    )
    singleton = models.BooleanField(default=True, unique=True, editable=False)

    class Meta:
        verbose_name_plural = "booking settings"
        constraints: ClassVar = [
            models.CheckConstraint(
                condition=models.Q(singleton=True), name="booking_settings_singleton"
            ),
        ]

    def __str__(self) -> str:
        return "Booking settings"

    def save(self, *args: Any, **kwargs: Any) -> None:
        super().save(*args, **kwargs)
        cache.delete(SETTINGS_CACHE_KEY)
        request_memo.forget(SETTINGS_CACHE_KEY)
        transaction.on_commit(lambda: cache.delete(SETTINGS_CACHE_KEY))

    @classmethod
    def load(cls) -> "BookingSettings":
        """The practice's settings, from the cache when possible: every portal home asks,
        twice (the home itself and its Appointments section), so once per request.

        Cache keys carry the schema (django_tenants.cache.make_key), so each practice has
        its own entry; saving drops it, now and again after commit.
        """
        return request_memo.remembered(SETTINGS_CACHE_KEY, cls._load)

    @classmethod
    def _load(cls) -> "BookingSettings":
        found = request_memo.cache_get(SETTINGS_CACHE_KEY)
        if isinstance(found, cls):
            return found
        found, _created = cls.objects.get_or_create(singleton=True)
        cache.set(SETTINGS_CACHE_KEY, found, timeout=SETTINGS_CACHE_SECONDS)
        return found

    @property
    def new_clients_may_book(self) -> bool:
        return self.enabled and self.audience == self.Audience.NEW_TOO


class Location(models.TextChoices):
    OFFICE = "office", "In the office"
    TELEHEALTH = "telehealth", "Telehealth"


class BookableService(models.Model):
    """What a client can book. Field names follow the billing app's fee model (name, duration
    in minutes, fee in minor units of the practice currency) so the two can merge later."""

    class Mode(models.TextChoices):
        INSTANT = "instant", "Instant: confirmed at once"
        REQUEST = "request", "Request: staff approve"

    name = models.CharField(max_length=120)
    duration_minutes = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(5), MaxValueValidator(8 * 60)]
    )
    fee = models.PositiveIntegerField(
        "fee (minor units)",
        default=0,
        help_text="In cents (or the practice currency's minor unit).",
    )
    location = models.CharField(max_length=16, choices=Location.choices, default=Location.OFFICE)
    mode = models.CharField(
        "booking mode", max_length=16, choices=Mode.choices, default=Mode.REQUEST
    )
    bookable_online = models.BooleanField(default=True)
    new_clients_allowed = models.BooleanField("new clients may book", default=False)
    clinicians = models.ManyToManyField(
        settings.AUTH_USER_MODEL, related_name="bookable_services", blank=True
    )
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering: ClassVar = ["name", "id"]

    def __str__(self) -> str:
        return self.name

    @property
    def duration(self) -> timedelta:
        return timedelta(minutes=self.duration_minutes)


class WorkingHours(models.Model):
    """One recurring weekly interval of a clinician's availability, in the practice's zone."""

    class Weekday(models.IntegerChoices):
        MONDAY = 0, "Monday"
        TUESDAY = 1, "Tuesday"
        WEDNESDAY = 2, "Wednesday"
        THURSDAY = 3, "Thursday"
        FRIDAY = 4, "Friday"
        SATURDAY = 5, "Saturday"
        SUNDAY = 6, "Sunday"

    clinician = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="working_hours"
    )
    weekday = models.PositiveSmallIntegerField(choices=Weekday.choices)
    start_time = models.TimeField()
    end_time = models.TimeField()

    class Meta:
        ordering: ClassVar = ["clinician", "weekday", "start_time"]
        constraints: ClassVar = [
            models.CheckConstraint(
                condition=models.Q(start_time__lt=models.F("end_time")),
                name="booking_hours_start_before_end",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.start_time:%H:%M}-{self.end_time:%H:%M}"


class AvailabilityException(models.Model):
    """A day that differs from the weekly pattern: a day off (or part of one), or extra hours."""

    class Kind(models.TextChoices):
        OFF = "off", "Not available"
        EXTRA = "extra", "Extra hours"

    clinician = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="availability_exceptions"
    )
    date = models.DateField()
    kind = models.CharField(max_length=8, choices=Kind.choices)
    # Empty for a whole day off; extra hours always have both.
    start_time = models.TimeField(null=True, blank=True)
    end_time = models.TimeField(null=True, blank=True)

    class Meta:
        ordering: ClassVar = ["date", "start_time"]
        constraints: ClassVar = [
            models.CheckConstraint(
                condition=(
                    models.Q(start_time__isnull=True, end_time__isnull=True, kind="off")
                    | models.Q(start_time__lt=models.F("end_time"))
                ),
                name="booking_exception_times",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} on {self.date}"


class TimeBlock(models.Model):
    """Time a clinician keeps free of appointments (supervision, admin, holiday)."""

    clinician = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="time_blocks"
    )
    start_at = models.DateTimeField()
    end_at = models.DateTimeField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering: ClassVar = ["start_at"]
        constraints: ClassVar = [
            models.CheckConstraint(
                condition=models.Q(start_at__lt=models.F("end_at")),
                name="booking_block_start_before_end",
            ),
        ]

    def __str__(self) -> str:
        return f"Blocked time #{self.pk}"


class TsTzRange(models.Func):
    function = "TSTZRANGE"
    output_field = DateTimeRangeField()


class Appointment(models.Model):
    """A client's appointment with a clinician.

    `blocks_until` is the end plus the practice's buffer at booking time: the database refuses
    two requested or confirmed appointments of one clinician whose [start_at, blocks_until)
    ranges overlap, so no check-then-insert race can double book, buffers included.
    """

    class Status(models.TextChoices):
        REQUESTED = "requested", "Requested"
        CONFIRMED = "confirmed", "Confirmed"
        DECLINED = "declined", "Declined"
        CANCELLED = "cancelled", "Cancelled"

    class Source(models.TextChoices):
        PORTAL = "portal", "Client portal"
        NEW_CLIENT = "new_client", "Booking page (new client)"
        STAFF = "staff", "Staff"

    HOLDING_STATUSES: ClassVar = (Status.REQUESTED, Status.CONFIRMED)

    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="appointments")
    clinician = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="clinician_appointments"
    )
    service = models.ForeignKey(
        BookableService, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    start_at = models.DateTimeField()
    end_at = models.DateTimeField()
    blocks_until = models.DateTimeField()
    location = models.CharField(max_length=16, choices=Location.choices, default=Location.OFFICE)
    status = models.CharField(max_length=16, choices=Status.choices)
    source = models.CharField(max_length=16, choices=Source.choices)
    booked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    # Staff's message with an approval or a decline, shown in the portal (not in email).
    decision_message = models.TextField(blank=True)
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    cancelled_at = models.DateTimeField(null=True, blank=True)
    late_cancellation = models.BooleanField(default=False)
    # Bumped on every change of time or status; calendar files carry it as SEQUENCE.
    sequence = models.PositiveIntegerField(default=0)
    # The start time a reminder was queued for; a moved appointment gets a new reminder.
    reminder_queued_for = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering: ClassVar = ["start_at", "id"]
        indexes: ClassVar = [
            models.Index(fields=["clinician", "start_at"]),
            models.Index(fields=["client", "start_at"]),
            models.Index(fields=["status", "start_at"]),
        ]
        constraints: ClassVar = [
            models.CheckConstraint(
                condition=models.Q(start_at__lt=models.F("end_at"))
                & models.Q(end_at__lte=models.F("blocks_until")),
                name="booking_appointment_times",
            ),
            ExclusionConstraint(
                name="booking_appointment_no_double_booking",
                expressions=[
                    ("clinician", RangeOperators.EQUAL),
                    (
                        TsTzRange("start_at", "blocks_until", RangeBoundary()),
                        RangeOperators.OVERLAPS,
                    ),
                ],
                condition=models.Q(status__in=["requested", "confirmed"]),
                violation_error_message="This time is no longer available.",
            ),
        ]

    def __str__(self) -> str:
        return f"Appointment #{self.pk}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.blocks_until is None and self.end_at is not None:
            self.blocks_until = self.end_at
        super().save(*args, **kwargs)

    @property
    def is_holding(self) -> bool:
        return self.status in self.HOLDING_STATUSES

    def cancellation_window_starts_at(self, notice_hours: int) -> datetime:
        # The first instant Python holds, for a row stored closer to it than the notice.
        first = datetime.min.replace(tzinfo=UTC)
        notice = timedelta(hours=notice_hours)
        return first if self.start_at - first < notice else self.start_at - notice

    def can_cancel_at(self, moment: datetime, *, notice_hours: int) -> bool:
        """Clients cancel online until the window begins: at its first instant they no longer
        can (cancelling exactly `notice_hours` before the start is already late)."""
        return self.is_holding and moment < self.cancellation_window_starts_at(notice_hours)

    def is_upcoming_at(self, moment: datetime) -> bool:
        return self.end_at > moment
