from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone

from tenant_apps.booking.availability import local_instant
from tenant_apps.booking.models import (
    AvailabilityException,
    BookableService,
    BookingSettings,
    Location,
    WorkingHours,
)


def bounded_formfield(db_field: models.Field[Any, Any], **kwargs: Any) -> forms.Field | None:
    """The model field's form field, with the bounds of its min/max validators as the form's.

    The model's validators stay the one source of truth; this makes the browser's number input
    offer (and the form check) the same range, instead of 0 and no upper end."""
    for validator in db_field.validators:
        if isinstance(validator, MinValueValidator):
            kwargs.setdefault("min_value", validator.limit_value)
        elif isinstance(validator, MaxValueValidator):
            kwargs.setdefault("max_value", validator.limit_value)
    return db_field.formfield(**kwargs)


class BookingSettingsForm(forms.ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = BookingSettings
        formfield_callback = bounded_formfield
        fields = [
            "enabled",
            "audience",
            "min_notice_hours",
            "max_horizon_days",
            "buffer_minutes",
            "slot_interval_minutes",
            "reminder_lead_hours",
        ]
        widgets = {"audience": forms.RadioSelect}


class ServiceForm(forms.ModelForm):  # type: ignore[type-arg]
    clinicians: forms.ModelMultipleChoiceField[Any] = forms.ModelMultipleChoiceField(
        queryset=None, widget=forms.CheckboxSelectMultiple, required=False
    )

    class Meta:
        model = BookableService
        formfield_callback = bounded_formfield
        fields = [
            "name",
            "duration_minutes",
            "fee",
            "location",
            "mode",
            "bookable_online",
            "new_clients_allowed",
            "is_active",
        ]

    def __init__(self, *args: Any, clinicians: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["clinicians"]
        field.queryset = clinicians  # type: ignore[attr-defined]
        field.label_from_instance = lambda user: user.full_name  # type: ignore[attr-defined]
        if self.instance.pk:
            field.initial = list(self.instance.clinicians.all())


def parse_weekly_hours(text: str) -> list[tuple[int, time, time]]:
    """One interval per line, 'Mon 09:00-17:00' (a day can have several lines)."""
    days = {label[:3].lower(): value for value, label in WorkingHours.Weekday.choices}
    hours = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        try:
            day, span = line.split(None, 1)
            start_text, end_text = (part.strip() for part in span.split("-"))
            start, end = time.fromisoformat(start_text), time.fromisoformat(end_text)
            weekday = days[day[:3].lower()]
        except (ValueError, KeyError):
            raise ValidationError(
                f"Line {number}: write a day and a time range, such as 'Mon 09:00-17:00'."
            ) from None
        if start >= end:
            raise ValidationError(f"Line {number}: the end must be after the start.")
        hours.append((weekday, start, end))
    return hours


def format_weekly_hours(rows: Any) -> str:
    return "\n".join(
        f"{row.get_weekday_display()[:3]} {row.start_time:%H:%M}-{row.end_time:%H:%M}"
        for row in rows
    )


class WeeklyHoursForm(forms.Form):
    hours = forms.CharField(
        label="Weekly hours",
        widget=forms.Textarea(attrs={"rows": 8}),
        required=False,
        help_text="One range per line in the practice's time zone, e.g. 'Mon 09:00-17:00'.",
    )

    def clean_hours(self) -> list[tuple[int, time, time]]:
        return parse_weekly_hours(self.cleaned_data["hours"])


# How far ahead staff may put anything on a calendar. Clients are bound by the practice's
# shorter horizon; staff plan further, but not into dates no practice keeps.
STAFF_DAYS_AHEAD = 2 * 365


def staff_date_error(day: date, *, zone: ZoneInfo) -> str | None:
    """Why staff may not plan on `day`, or None: it must run from today to two years ahead."""
    today = timezone.now().astimezone(zone).date()
    if day < today:
        return "This date has passed. Choose today or a later date."
    if day > today + timedelta(days=STAFF_DAYS_AHEAD):
        return "Choose a date within two years from today."
    return None


class ExceptionForm(forms.ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = AvailabilityException
        fields = ["date", "kind", "start_time", "end_time"]
        widgets = {
            "date": forms.DateInput(attrs={"type": "date"}),
            "start_time": forms.TimeInput(attrs={"type": "time"}),
            "end_time": forms.TimeInput(attrs={"type": "time"}),
        }
        help_texts = {"start_time": "Leave both times empty for a whole day off."}

    def __init__(self, *args: Any, zone: ZoneInfo, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.zone = zone

    def clean_date(self) -> date:
        day: date = self.cleaned_data["date"]
        error = staff_date_error(day, zone=self.zone)
        if error:
            raise ValidationError(error)
        return day

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        start, end = cleaned.get("start_time"), cleaned.get("end_time")
        if (start is None) != (end is None):
            raise ValidationError("Give both a start and an end time, or neither.")
        if cleaned.get("kind") == AvailabilityException.Kind.EXTRA and start is None:
            raise ValidationError("Extra hours need a start and an end time.")
        if start is not None and end is not None and start >= end:
            raise ValidationError("The end must be after the start.")
        return cleaned


class LocalDateTimeForm(forms.Form):
    """A date and a wall time in the practice's zone, made into an aware instant.

    The date runs from today to two years ahead, and the instant may not have passed unless
    `past_times_allowed` (time blocked from earlier today on)."""

    date = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    time = forms.TimeField(widget=forms.TimeInput(attrs={"type": "time"}))
    past_times_allowed = False

    def __init__(self, *args: Any, zone: ZoneInfo, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.zone = zone

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        day, wall = cleaned.get("date"), cleaned.get("time")
        if day is None or wall is None:
            return cleaned
        error = staff_date_error(day, zone=self.zone)
        if error:
            self.add_error("date", error)
            return cleaned
        instant = local_instant(day, wall, self.zone)
        if instant is None:
            raise ValidationError(
                "That time does not exist on this date (the clocks change). Choose another time."
            )
        if instant < timezone.now() and not self.past_times_allowed:
            self.add_error("time", "This time has passed. Choose a later time.")
            return cleaned
        cleaned["start_at"] = instant
        return cleaned


class BlockTimeForm(LocalDateTimeForm):
    minutes = forms.IntegerField(min_value=5, max_value=24 * 60, initial=60)
    past_times_allowed = True


class ScheduleForm(LocalDateTimeForm):
    client: forms.ModelChoiceField[Any] = forms.ModelChoiceField(queryset=None)
    clinician: forms.ModelChoiceField[Any] = forms.ModelChoiceField(queryset=None)
    service: forms.ModelChoiceField[Any] = forms.ModelChoiceField(queryset=None, required=False)
    minutes = forms.IntegerField(min_value=5, max_value=8 * 60, initial=50)
    location = forms.ChoiceField(choices=Location.choices)
    field_order = ["client", "clinician", "service", "date", "time", "minutes", "location"]

    def __init__(self, *args: Any, clients: Any, clinicians: Any, services: Any, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.fields["client"].queryset = clients  # type: ignore[attr-defined]
        self.fields["client"].label_from_instance = lambda c: c.display_name  # type: ignore[attr-defined]
        self.fields["clinician"].queryset = clinicians  # type: ignore[attr-defined]
        self.fields["clinician"].label_from_instance = lambda u: u.full_name  # type: ignore[attr-defined]
        self.fields["service"].queryset = services  # type: ignore[attr-defined]


class MoveForm(LocalDateTimeForm):
    clinician: forms.ModelChoiceField[Any] = forms.ModelChoiceField(queryset=None)

    def __init__(self, *args: Any, clinicians: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["clinician"].queryset = clinicians  # type: ignore[attr-defined]
        self.fields["clinician"].label_from_instance = lambda u: u.full_name  # type: ignore[attr-defined]


class DecisionForm(forms.Form):
    message = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        max_length=1000,
        help_text="Shown to the client in the portal (not in the email).",
    )


class StaffCancelForm(forms.Form):
    late = forms.BooleanField(label="Count as a late cancellation", required=False)


class NewClientForm(forms.Form):
    first_name = forms.CharField(max_length=100)
    last_name = forms.CharField(max_length=100)
    email = forms.EmailField()
    phone = forms.CharField(max_length=32, required=False)
    # A field people never see; bots fill it in.
    website = forms.CharField(required=False, widget=forms.HiddenInput)

    def clean_phone(self) -> str:
        from tenant_apps.practice.phones import normalize_phone

        return normalize_phone(self.cleaned_data.get("phone", ""))


# A start this close to the first or last instant Python holds cannot be shown in every zone
# or have an appointment's length added; no slot is ever there.
_START_MARGIN = timedelta(days=1)
_FIRST_START = datetime.min.replace(tzinfo=UTC) + _START_MARGIN
_LAST_START = datetime.max.replace(tzinfo=UTC) - _START_MARGIN


def parse_start(value: str | None) -> datetime | None:
    """A slot's start from the query string: an aware ISO 8601 instant, or None."""
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace(" ", "+"))
    except ValueError:
        return None
    if moment.tzinfo is None or not _FIRST_START < moment < _LAST_START:
        return None
    return moment
