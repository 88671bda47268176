"""The one server-side guard of every booking view: the plan must include online booking,
and for client-facing views the practice must have switched it on.

Hiding links is not enough: a direct request to any booking URL of a Starter practice, or of
a Professional practice that has not enabled booking, gets a 403 page that says why.
"""

import logging
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from tenant_apps.booking.models import BookingSettings
from tenants.models import Practice

logger = logging.getLogger(__name__)

View = Callable[..., HttpResponse]


def request_practice(request: HttpRequest) -> Practice:
    practice = getattr(request, "tenant", None)
    assert isinstance(practice, Practice), "booking views run on a practice host"
    return practice


def booking_required(*, online: bool, upsell: bool = False) -> Callable[[View], View]:
    """`online`: the practice's own switch must be on too (client-facing views).
    `upsell`: on other plans, a GET shows what the feature does and how to upgrade
    (status 200) instead of the 403 page; any other method is still refused."""

    def decorator(view: View) -> View:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            practice = request_practice(request)
            if not practice.booking_available:
                logger.debug("Booking refused: plan of practice %s lacks it", practice.pk)
                if upsell and request.method in ("GET", "HEAD"):
                    return render(request, "booking/upgrade.html")
                return render(request, "booking/unavailable.html", {"reason": "plan"}, status=403)
            if online and not BookingSettings.load().enabled:
                logger.debug("Booking refused: practice %s has it switched off", practice.pk)
                return render(
                    request, "booking/unavailable.html", {"reason": "disabled"}, status=403
                )
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


def online_booking_enabled(practice: Practice) -> bool:
    """Both conditions, for templates and the portal home."""
    return practice.booking_available and BookingSettings.load().enabled
