"""The one server-side guard of every booking view: the plan must include online booking,
and for client-facing views the practice must have switched it on.

Hiding links is not enough: a direct request to any booking URL of a Starter practice, or of
a Professional practice that has not enabled booking, is refused with a page that says why.
Clients and visitors are told to contact the practice; staff are told it is a plan feature.
"""

import logging
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from tenant_apps.accounts.access import staff_required
from tenant_apps.booking.models import BookingSettings
from tenants.models import Practice

logger = logging.getLogger(__name__)

View = Callable[..., HttpResponse]


def request_practice(request: HttpRequest) -> Practice:
    practice = getattr(request, "tenant", None)
    assert isinstance(practice, Practice), "booking views run on a practice host"
    return practice


def booking_required(view: View) -> View:
    """Client-facing views: the plan must include booking and the practice's switch be on."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        practice = request_practice(request)
        if not practice.booking_available:
            logger.debug("Booking refused: plan of practice %s lacks it", practice.pk)
            return render(request, "booking/unavailable.html", {"reason": "plan"}, status=403)
        if not BookingSettings.load().enabled:
            logger.debug("Booking refused: practice %s has it switched off", practice.pk)
            return render(request, "booking/unavailable.html", {"reason": "disabled"}, status=403)
        return view(request, *args, **kwargs)

    return wrapped


def staff_booking_required(*, upsell: bool = False) -> Callable[[View], View]:
    """Workspace views: a staff sign-in first (anyone else is sent to it, as on every
    /practice/ URL), then a plan that includes booking; the practice's switch does not matter.

    On other plans staff get the page saying what booking does and which plan has it: status
    200 for a GET of an `upsell` view (the settings page the menu leads to), 403 otherwise,
    so every other method is still refused."""

    def decorator(view: View) -> View:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            practice = request_practice(request)
            if not practice.booking_available:
                logger.debug("Booking refused: plan of practice %s lacks it", practice.pk)
                shown = upsell and request.method in ("GET", "HEAD")
                return render(request, "booking/upgrade.html", status=200 if shown else 403)
            return view(request, *args, **kwargs)

        return staff_required(wrapped)

    return decorator


def online_booking_enabled(practice: Practice) -> bool:
    """Both conditions, for templates and the portal home."""
    return practice.booking_available and BookingSettings.load().enabled
