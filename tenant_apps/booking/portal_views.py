"""Portal views: a client's appointments, requesting or booking one, cancelling; and the
booking page for new clients when the practice lets them book."""

from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from tenant_apps.accounts.access import acting_user, client_required
from tenant_apps.accounts.models import User
from tenant_apps.audit.services import record_event
from tenant_apps.booking import selectors, services
from tenant_apps.booking.access import booking_required, online_booking_enabled, request_practice
from tenant_apps.booking.forms import NewClientForm, parse_start
from tenant_apps.booking.models import Appointment, BookingSettings
from tenant_apps.booking.zones import client_zone, practice_zone, remember_client_zone
from tenant_apps.clients.models import Client
from tenant_apps.clients.selectors import client_for_portal_user

DAYS_SHOWN = 14


def slot_param(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _zones(request: HttpRequest) -> dict[str, Any]:
    practice = request_practice(request)
    return {"practice_zone": practice_zone(practice), "client_zone": client_zone(request, practice)}


def _new_clients_only(request: HttpRequest) -> None:
    """The public booking page exists only when the practice lets new clients book."""
    if not BookingSettings.load().new_clients_may_book:
        raise Http404("New clients cannot book online here")


def _step_urls(new_client: bool) -> dict[str, str]:
    prefix = "booking_portal:new_client_" if new_client else "booking_portal:"
    return {
        "services": prefix + "services",
        "clinicians": prefix + "clinicians",
        "slots": prefix + "slots",
        "confirm": prefix + "confirm",
    }


# The client's appointments -------------------------------------------------------------


def appointments_section(request: HttpRequest, user: User) -> dict[str, Any]:
    """The portal home's Appointments section: the next few, and the way to book."""
    practice = request_practice(request)
    if not online_booking_enabled(practice):
        return {}
    client = Client.objects.filter(user=user).first()
    if client is None:
        return {"upcoming": [], **_zones(request)}
    upcoming = selectors.appointments_for_client(client).filter(
        end_at__gt=timezone.now(), status__in=Appointment.HOLDING_STATUSES
    )[:3]
    return {"upcoming": list(upcoming), **_zones(request)}


@booking_required
@client_required
def appointment_list(request: HttpRequest) -> HttpResponse:
    remember_client_zone(request)
    client = client_for_portal_user(acting_user(request))
    now = timezone.now()
    appointments = selectors.appointments_for_client(client)
    return render(
        request,
        "booking/portal/list.html",
        {
            "upcoming": appointments.filter(end_at__gt=now).exclude(
                status__in=[Appointment.Status.CANCELLED, Appointment.Status.DECLINED]
            ),
            "past": appointments.filter(end_at__lte=now).order_by("-start_at")[:20],
            "closed": appointments.filter(
                end_at__gt=now,
                status__in=[Appointment.Status.CANCELLED, Appointment.Status.DECLINED],
            ),
            **_zones(request),
        },
    )


@booking_required
@client_required
def appointment_detail(request: HttpRequest, pk: str) -> HttpResponse:
    remember_client_zone(request)
    practice = request_practice(request)
    client = client_for_portal_user(acting_user(request))
    appointment = selectors.get_appointment_for_client(client, pk)
    notice = practice.cancellation_notice_hours
    return render(
        request,
        "booking/portal/detail.html",
        {
            "appointment": appointment,
            "can_cancel": appointment.can_cancel_at(timezone.now(), notice_hours=notice),
            "window_starts_at": appointment.cancellation_window_starts_at(notice),
            **_zones(request),
        },
    )


@booking_required
@client_required
@require_POST
def appointment_cancel(request: HttpRequest, pk: str) -> HttpResponse:
    user = acting_user(request)
    client = client_for_portal_user(user)
    appointment = selectors.get_appointment_for_client(client, pk)
    try:
        services.cancel_by_client(appointment, actor=user, practice=request_practice(request))
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("booking_portal:detail", pk=appointment.pk)
    messages.success(request, "Your appointment is cancelled.")
    return redirect("booking_portal:list")


# Booking steps, shared by clients and new clients ---------------------------------------


def _choose_service(request: HttpRequest, *, new_client: bool) -> HttpResponse:
    remember_client_zone(request)
    return render(
        request,
        "booking/portal/services.html",
        {
            "services": selectors.bookable_services(new_client=new_client),
            "urls": _step_urls(new_client),
            "new_client": new_client,
        },
    )


def _choose_clinician(request: HttpRequest, service_pk: str, *, new_client: bool) -> HttpResponse:
    remember_client_zone(request)
    service = selectors.get_bookable_service(service_pk, new_client=new_client)
    clinicians = list(selectors.clinicians_for_service(service))
    urls = _step_urls(new_client)
    if len(clinicians) == 1:
        return redirect(urls["slots"], service_pk=service.pk, clinician_pk=clinicians[0].pk)
    return render(
        request,
        "booking/portal/clinicians.html",
        {"service": service, "clinicians": clinicians, "urls": urls, "new_client": new_client},
    )


def _parse_day(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def _choose_slot(
    request: HttpRequest, service_pk: str, clinician_pk: str, *, new_client: bool
) -> HttpResponse:
    remember_client_zone(request)
    practice = request_practice(request)
    service = selectors.get_bookable_service(service_pk, new_client=new_client)
    clinician = selectors.get_clinician_for_service(service, clinician_pk)
    now = timezone.now()
    settings = BookingSettings.load()
    rules = selectors.booking_rules(practice, settings, service, now=now)
    today = now.astimezone(rules.time_zone).date()
    _, last_bookable = selectors.bookable_days(rules)
    # Any date asked for is brought inside the practice's horizon (today at the earliest).
    first = min(max(_parse_day(request.GET.get("from")) or today, today), last_bookable)
    days = selectors.free_slots_for(
        practice,
        service,
        clinician,
        first_day=first,
        last_day=first + timedelta(DAYS_SHOWN - 1),
        now=now,
        settings=settings,
    )
    later = first + timedelta(DAYS_SHOWN)
    chosen_day = _parse_day(request.GET.get("day"))
    chosen = next((d for d in days if d.day == chosen_day), days[0] if days else None)
    return render(
        request,
        "booking/portal/slots.html",
        {
            "service": service,
            "clinician": clinician,
            "days": days,
            "chosen": chosen,
            "slots": [(slot, slot_param(slot)) for slot in chosen.slots] if chosen else [],
            "first": first,
            "next_from": later.isoformat() if later <= last_bookable else "",
            "previous_from": (first - timedelta(DAYS_SHOWN)).isoformat() if first > today else "",
            "urls": _step_urls(new_client),
            "new_client": new_client,
            **_zones(request),
        },
    )


def _confirm_context(
    request: HttpRequest, service_pk: str, clinician_pk: str, *, new_client: bool
) -> dict[str, Any]:
    service = selectors.get_bookable_service(service_pk, new_client=new_client)
    clinician = selectors.get_clinician_for_service(service, clinician_pk)
    start_at = parse_start(request.GET.get("start") or request.POST.get("start"))
    if start_at is None:
        raise Http404("No such slot")
    return {
        "service": service,
        "clinician": clinician,
        "start_at": start_at,
        "end_at": start_at + service.duration,
        "start_param": slot_param(start_at),
        "urls": _step_urls(new_client),
        "new_client": new_client,
        **_zones(request),
    }


def _day_slots_url(context: dict[str, Any]) -> str:
    """The free times of the day the client chose."""
    day = context["start_at"].astimezone(context["practice_zone"]).date().isoformat()
    slots = reverse(
        context["urls"]["slots"],
        kwargs={"service_pk": context["service"].pk, "clinician_pk": context["clinician"].pk},
    )
    return f"{slots}?{urlencode({'from': day, 'day': day})}"


def _confirm_page(request: HttpRequest, context: dict[str, Any], **extra: Any) -> HttpResponse:
    """The confirmation, for a time the portal offers right now; for any other time, the
    refusal a booking would get, with the way back to that day's free times."""
    offered = selectors.is_free_slot(
        request_practice(request),
        context["service"],
        context["clinician"],
        context["start_at"],
        now=timezone.now(),
    )
    if not offered:
        extra = {
            "unavailable": services.SLOT_UNAVAILABLE_MESSAGE,
            "day_slots": _day_slots_url(context),
        }
    return render(request, "booking/portal/confirm.html", {**context, **extra})


def _slot_gone(
    request: HttpRequest, context: dict[str, Any], error: ValidationError
) -> HttpResponse:
    """Back to the free times of the day the client chose, with the reason: a redirect, so
    a refused booking renders nothing itself."""
    messages.error(request, " ".join(error.messages))
    return redirect(_day_slots_url(context))


@booking_required
@client_required
def services_step(request: HttpRequest) -> HttpResponse:
    return _choose_service(request, new_client=False)


@booking_required
@client_required
def clinicians_step(request: HttpRequest, service_pk: str) -> HttpResponse:
    return _choose_clinician(request, service_pk, new_client=False)


@booking_required
@client_required
def slots_step(request: HttpRequest, service_pk: str, clinician_pk: str) -> HttpResponse:
    return _choose_slot(request, service_pk, clinician_pk, new_client=False)


@booking_required
@client_required
@require_http_methods(["GET", "POST"])
def confirm_step(request: HttpRequest, service_pk: str, clinician_pk: str) -> HttpResponse:
    remember_client_zone(request)
    context = _confirm_context(request, service_pk, clinician_pk, new_client=False)
    if request.method == "POST":
        user = acting_user(request)
        client = client_for_portal_user(user)
        slot = {
            "service": context["service"],
            "clinician": context["clinician"],
            "start_at": context["start_at"],
        }
        try:
            appointment = services.book_appointment(
                practice=request_practice(request),
                client=client,
                actor=user,
                request=request,
                **slot,
            )
        except ValidationError as error:
            # Sent twice (a double click): the slot is taken by this client's own booking.
            earlier = selectors.held_by_client(client, **slot)
            if earlier is None:
                return _slot_gone(request, context, error)
            appointment = earlier
        if appointment.status == Appointment.Status.CONFIRMED:
            messages.success(request, "Your appointment is booked. We've emailed you the details.")
        else:
            messages.success(
                request, "Your request is sent. We'll email you when the practice answers."
            )
        return redirect("booking_portal:detail", pk=appointment.pk)
    return _confirm_page(request, context)


# New clients -----------------------------------------------------------------------------


@booking_required
def new_client_services(request: HttpRequest) -> HttpResponse:
    _new_clients_only(request)
    return _choose_service(request, new_client=True)


@booking_required
def new_client_clinicians(request: HttpRequest, service_pk: str) -> HttpResponse:
    _new_clients_only(request)
    return _choose_clinician(request, service_pk, new_client=True)


@booking_required
def new_client_slots(request: HttpRequest, service_pk: str, clinician_pk: str) -> HttpResponse:
    _new_clients_only(request)
    return _choose_slot(request, service_pk, clinician_pk, new_client=True)


@booking_required
@require_http_methods(["GET", "POST"])
def new_client_confirm(request: HttpRequest, service_pk: str, clinician_pk: str) -> HttpResponse:
    _new_clients_only(request)
    remember_client_zone(request)
    context = _confirm_context(request, service_pk, clinician_pk, new_client=True)
    form = NewClientForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        if data["website"]:
            record_event(None, "booking.new_client_bot", request=request)
            return render(request, "booking/portal/new_client_sent.html", context)
        try:
            services.request_as_new_client(
                practice=request_practice(request),
                service=context["service"],
                clinician=context["clinician"],
                start_at=context["start_at"],
                first_name=data["first_name"],
                last_name=data["last_name"],
                email=data["email"],
                phone=data["phone"],
                request=request,
            )
        except ValidationError as error:
            return _slot_gone(request, context, error)
        return render(request, "booking/portal/new_client_sent.html", context)
    return _confirm_page(request, context, form=form)
