"""Workspace views: online booking settings, services and hours, the calendar, and what
staff do with requests and appointments."""

from datetime import date, datetime, time, timedelta
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from tenant_apps.accounts.access import acting_user
from tenant_apps.accounts.models import Role, User
from tenant_apps.audit.services import record_event
from tenant_apps.booking import selectors, services
from tenant_apps.booking.access import request_practice, staff_booking_required
from tenant_apps.booking.forms import (
    BlockTimeForm,
    BookingSettingsForm,
    DecisionForm,
    ExceptionForm,
    MoveForm,
    ScheduleForm,
    ServiceForm,
    StaffCancelForm,
    WeeklyHoursForm,
    format_weekly_hours,
)
from tenant_apps.booking.models import (
    Appointment,
    AvailabilityException,
    BookableService,
    BookingSettings,
    WorkingHours,
)
from tenant_apps.booking.zones import on_clock, practice_zone
from tenant_apps.clients.models import Client


def client_panel(request: HttpRequest, user: User, client: Client) -> dict[str, Any]:
    """The client page's Appointments panel: this client's appointments the viewer may see,
    on plans with booking only."""
    practice = request_practice(request)
    if not practice.booking_available:
        return {"available": False}
    appointments = selectors.appointments_for_staff(user).filter(client=client)
    return {
        "available": True,
        "upcoming": list(
            appointments.filter(end_at__gt=timezone.now(), status__in=Appointment.HOLDING_STATUSES)[
                :10
            ]
        ),
        "practice_zone": practice_zone(practice),
    }


def _forbidden(request: HttpRequest) -> HttpResponse:
    return render(request, "workspace/owner_only.html", status=403)


def _owner(request: HttpRequest) -> User | None:
    user = acting_user(request)
    return user if user.role == Role.OWNER else None


# Settings --------------------------------------------------------------------------------


@staff_booking_required(upsell=True)
@require_http_methods(["GET", "POST"])
def booking_settings(request: HttpRequest) -> HttpResponse:
    owner = _owner(request)
    if owner is None:
        return _forbidden(request)
    settings = BookingSettings.load()
    form = BookingSettingsForm(request.POST or None, instance=settings)
    if request.method == "POST" and form.is_valid():
        services.save_booking_settings(form.instance, actor=owner, changed=form.changed_data)
        messages.success(request, "Online booking settings saved.")
        return redirect("booking:settings")
    return render(
        request,
        "booking/settings.html",
        {
            "form": form,
            "services": selectors.all_services(),
            "clinicians": selectors.practice_clinicians(),
        },
    )


@staff_booking_required()
@require_http_methods(["GET", "POST"])
def service_edit(request: HttpRequest, pk: str | None = None) -> HttpResponse:
    owner = _owner(request)
    if owner is None:
        return _forbidden(request)
    service = selectors.get_service_for_staff(pk) if pk is not None else BookableService()
    form = ServiceForm(
        request.POST or None, instance=service, clinicians=selectors.practice_clinicians()
    )
    if request.method == "POST" and form.is_valid():
        services.save_service(
            form.instance, actor=owner, clinicians=form.cleaned_data["clinicians"]
        )
        messages.success(request, "Service saved.")
        return redirect("booking:settings")
    return render(
        request, "booking/service_form.html", {"form": form, "service": service if pk else None}
    )


def _hours_clinician(request: HttpRequest, clinician_pk: str) -> User:
    """Owners edit anyone's hours; a clinician edits their own."""
    user = acting_user(request)
    if user.role == Role.OWNER:
        return selectors.get_calendar_clinician(user, clinician_pk)
    if user.role == Role.CLINICIAN and str(user.pk) == clinician_pk:
        return user
    from django.http import Http404

    raise Http404("No such clinician")


@staff_booking_required()
@require_http_methods(["GET", "POST"])
def clinician_hours(request: HttpRequest, clinician_pk: str) -> HttpResponse:
    user = acting_user(request)
    clinician = _hours_clinician(request, clinician_pk)
    zone = practice_zone(request_practice(request))
    action = request.POST.get("action")
    hours_form = WeeklyHoursForm(
        request.POST if action == "hours" else None,
        initial={"hours": format_weekly_hours(WorkingHours.objects.filter(clinician=clinician))},
    )
    exception_form = ExceptionForm(request.POST if action == "exception" else None, zone=zone)
    block_form = BlockTimeForm(request.POST if action == "block" else None, zone=zone)

    if action == "hours" and hours_form.is_valid():
        services.set_weekly_hours(clinician, actor=user, hours=hours_form.cleaned_data["hours"])
        messages.success(request, "Weekly hours saved.")
        return redirect("booking:hours", clinician_pk=clinician.pk)
    if action == "exception" and exception_form.is_valid():
        data = exception_form.cleaned_data
        services.add_exception(
            clinician,
            actor=user,
            day=data["date"],
            kind=data["kind"],
            start=data["start_time"],
            end=data["end_time"],
        )
        messages.success(request, "Exception added.")
        return redirect("booking:hours", clinician_pk=clinician.pk)
    if action == "remove_exception":
        exception = selectors.get_exception_for_clinician(clinician, request.POST.get("pk"))
        services.remove_exception(exception, actor=user)
        messages.success(request, "Exception removed.")
        return redirect("booking:hours", clinician_pk=clinician.pk)
    if action == "block" and block_form.is_valid():
        start_at = block_form.cleaned_data["start_at"]
        services.block_time(
            clinician,
            actor=user,
            start_at=start_at,
            end_at=start_at + timedelta(minutes=block_form.cleaned_data["minutes"]),
        )
        messages.success(request, "Time blocked.")
        return redirect("booking:hours", clinician_pk=clinician.pk)
    if action == "unblock":
        block = selectors.get_block_for_clinician(clinician, request.POST.get("pk"))
        services.unblock_time(block, actor=user)
        messages.success(request, "Blocked time removed.")
        return redirect("booking:hours", clinician_pk=clinician.pk)

    return render(
        request,
        "booking/hours.html",
        {
            "clinician": clinician,
            "hours_form": hours_form,
            "exception_form": exception_form,
            "block_form": block_form,
            "exceptions": AvailabilityException.objects.filter(
                clinician=clinician, date__gte=datetime.now(zone).date()
            ),
            "blocks": clinician.time_blocks.filter(end_at__gte=datetime.now(zone)),
            "practice_zone": zone,
        },
    )


# Calendar ------------------------------------------------------------------------------


# The calendar shows dates in these years; any other date in the query string is ignored like
# an unreadable one. Far from year 1 and year 9999, a week and its neighbours can be turned into
# instants in every zone without leaving what dates can hold.
CALENDAR_YEARS = range(1900, 3000)


def _calendar_range(request: HttpRequest, zone: Any) -> tuple[str, date, list[date]]:
    view = "day" if request.GET.get("view") == "day" else "week"
    today = datetime.now(zone).date()
    try:
        anchor = date.fromisoformat(request.GET.get("date", ""))
    except ValueError:
        anchor = today
    if anchor.year not in CALENDAR_YEARS:
        anchor = today
    if view == "day":
        return view, anchor, [anchor]
    monday = anchor - timedelta(days=anchor.weekday())
    return view, anchor, [monday + timedelta(days=n) for n in range(7)]


@staff_booking_required()
def calendar(request: HttpRequest) -> HttpResponse:
    user = acting_user(request)
    if user.role == Role.BILLER:
        return _forbidden(request)
    zone = practice_zone(request_practice(request))
    view, anchor, days = _calendar_range(request, zone)
    clinicians = list(selectors.calendar_clinicians(user))
    chosen = request.GET.get("clinician", "")
    if chosen:
        clinicians = [selectors.get_calendar_clinician(user, chosen)]
    start = datetime.combine(days[0], time(0), tzinfo=zone)
    end = datetime.combine(days[-1] + timedelta(days=1), time(0), tzinfo=zone)
    entries = selectors.calendar_entries(user, clinicians=clinicians, start=start, end=end)
    blocks = selectors.calendar_blocks(clinicians, start=start, end=end)

    columns = []
    for day in days:
        rows = []
        for clinician in clinicians:
            rows.append(
                {
                    "clinician": clinician,
                    "appointments": [
                        a
                        for a in entries
                        if a.clinician_id == clinician.pk
                        and a.start_at.astimezone(zone).date() == day
                    ],
                    "blocks": [
                        b
                        for b in blocks
                        if b.clinician_id == clinician.pk
                        and b.start_at.astimezone(zone).date() == day
                    ],
                }
            )
        columns.append({"day": day, "rows": rows})
    step = timedelta(days=1 if view == "day" else 7)
    return render(
        request,
        "booking/calendar.html",
        {
            "view": view,
            "columns": columns,
            "anchor": anchor,
            "previous": (anchor - step).isoformat(),
            "next": (anchor + step).isoformat(),
            "all_clinicians": selectors.calendar_clinicians(user),
            "chosen": chosen,
            "requests": selectors.pending_requests(user),
            "practice_zone": zone,
        },
    )


@staff_booking_required()
@require_http_methods(["GET", "POST"])
def schedule(request: HttpRequest) -> HttpResponse:
    user = acting_user(request)
    if user.role == Role.BILLER:
        return _forbidden(request)
    zone = practice_zone(request_practice(request))
    form = ScheduleForm(
        request.POST or None,
        zone=zone,
        clients=selectors.clients_for_scheduling(user),
        clinicians=selectors.calendar_clinicians(user),
        services=BookableService.objects.filter(is_active=True),
        initial={"date": request.GET.get("date")},
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            appointment = services.schedule_by_staff(
                actor=user,
                client=data["client"],
                clinician=data["clinician"],
                start_at=data["start_at"],
                duration_minutes=data["minutes"],
                location=data["location"],
                service=data["service"],
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, "Appointment added.")
            return redirect("booking:appointment", pk=appointment.pk)
    return render(request, "booking/schedule.html", {"form": form, "practice_zone": zone})


def _appointment_page(
    request: HttpRequest, user: User, appointment: Appointment, *, move_form: MoveForm | None
) -> HttpResponse:
    """The appointment with its actions; `move_form` bound after a refused move, so the page
    shows what was typed and why it was refused."""
    zone = practice_zone(request_practice(request))
    local = on_clock(appointment.start_at, zone)
    if move_form is None:
        move_form = MoveForm(
            zone=zone,
            clinicians=selectors.calendar_clinicians(user),
            initial={
                "date": local.date(),
                "time": local.time(),
                "clinician": appointment.clinician_id,
            },
        )
    return render(
        request,
        "booking/appointment.html",
        {
            "appointment": appointment,
            "decision_form": DecisionForm(),
            "cancel_form": StaffCancelForm(),
            "move_form": move_form,
            "local_day": local.date(),
            "practice_zone": zone,
        },
    )


@staff_booking_required()
def appointment_detail(request: HttpRequest, pk: str) -> HttpResponse:
    user = acting_user(request)
    appointment = selectors.get_appointment_for_staff(user, pk)
    record_event(user, "booking.viewed", target=appointment, request=request)
    return _appointment_page(request, user, appointment, move_form=None)


def _back(appointment: Appointment) -> HttpResponse:
    return redirect("booking:appointment", pk=appointment.pk)


@staff_booking_required()
@require_POST
def appointment_decide(request: HttpRequest, pk: str) -> HttpResponse:
    user = acting_user(request)
    appointment = selectors.get_appointment_for_staff(user, pk)
    form = DecisionForm(request.POST)
    if not form.is_valid():
        messages.error(request, "The message is too long.")
        return _back(appointment)
    decide = (
        services.approve_request
        if request.POST.get("decision") == "approve"
        else services.decline_request
    )
    try:
        decide(appointment, actor=user, message=form.cleaned_data["message"])
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, "Request answered; the client has been emailed.")
    return _back(appointment)


@staff_booking_required()
@require_POST
def appointment_cancel(request: HttpRequest, pk: str) -> HttpResponse:
    user = acting_user(request)
    appointment = selectors.get_appointment_for_staff(user, pk)
    form = StaffCancelForm(request.POST)
    form.is_valid()
    try:
        services.cancel_by_staff(appointment, actor=user, late=form.cleaned_data.get("late", False))
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, "Appointment cancelled; the client has been emailed.")
    return _back(appointment)


@staff_booking_required()
@require_POST
def appointment_move(request: HttpRequest, pk: str) -> HttpResponse:
    user = acting_user(request)
    appointment = selectors.get_appointment_for_staff(user, pk)
    zone = practice_zone(request_practice(request))
    form = MoveForm(request.POST, zone=zone, clinicians=selectors.calendar_clinicians(user))
    if form.is_valid():
        try:
            services.move_appointment(
                appointment,
                actor=user,
                start_at=form.cleaned_data["start_at"],
                clinician=form.cleaned_data["clinician"],
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, "Appointment moved.")
            return _back(appointment)
    return _appointment_page(request, user, appointment, move_form=form)
