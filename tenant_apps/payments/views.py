"""The workspace's Stripe settings page: connect, finish onboarding, see what is missing."""

import logging

import stripe
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from shared_apps.payments import services
from shared_apps.payments.selectors import connection_status
from tenant_apps.accounts.access import acting_user, staff_required
from tenant_apps.accounts.models import Role
from tenant_apps.payments.requirements import describe_all
from tenants.models import Practice

logger = logging.getLogger(__name__)

UNREACHABLE = "Stripe could not be reached just now. Nothing was changed; please try again."


def _practice(request: HttpRequest) -> Practice:
    practice = request.tenant  # type: ignore[attr-defined]
    assert isinstance(practice, Practice)
    return practice


def _owner_only(request: HttpRequest) -> HttpResponse | None:
    if acting_user(request).role != Role.OWNER:
        return render(request, "workspace/owner_only.html", status=403)
    return None


@staff_required
@require_http_methods(["GET"])
def settings_page(request: HttpRequest) -> HttpResponse:
    if (denied := _owner_only(request)) is not None:
        return denied
    practice = _practice(request)
    if request.GET.get("returned") and connection_status(practice).connected:
        # Back from Stripe's onboarding: read the status now rather than wait for the webhook.
        try:
            services.refresh_account(practice)
        except stripe.StripeError:
            logger.warning("Could not refresh the connected account after onboarding")
            messages.error(request, UNREACHABLE)
        return redirect("payments:settings")
    status = connection_status(practice)
    return render(
        request,
        "payments/settings.html",
        {"status": status, "missing": describe_all(status.requirements_due)},
    )


def _onboarding_redirect(request: HttpRequest) -> HttpResponse:
    practice = _practice(request)
    try:
        url = services.start_onboarding(
            practice,
            actor=acting_user(request),
            return_url=request.build_absolute_uri(reverse("payments:settings") + "?returned=1"),
            refresh_url=request.build_absolute_uri(reverse("payments:onboarding_refresh")),
        )
    except stripe.StripeError:
        logger.warning("Could not start Stripe onboarding")
        messages.error(request, UNREACHABLE)
        return redirect("payments:settings")
    return redirect(url)


@staff_required
@require_POST
def connect(request: HttpRequest) -> HttpResponse:
    if (denied := _owner_only(request)) is not None:
        return denied
    return _onboarding_redirect(request)


@staff_required
@require_GET
def onboarding_refresh(request: HttpRequest) -> HttpResponse:
    """Where Stripe sends the owner when an onboarding link has expired: issue a fresh one."""
    if (denied := _owner_only(request)) is not None:
        return denied
    if not connection_status(_practice(request)).connected:
        return redirect("payments:settings")
    return _onboarding_redirect(request)


@staff_required
@require_POST
def refresh(request: HttpRequest) -> HttpResponse:
    if (denied := _owner_only(request)) is not None:
        return denied
    try:
        services.refresh_account(_practice(request))
    except stripe.StripeError:
        logger.warning("Could not refresh the connected account")
        messages.error(request, UNREACHABLE)
    else:
        messages.success(request, "Status updated from Stripe.")
    return redirect("payments:settings")


@staff_required
@require_POST
def disconnect(request: HttpRequest) -> HttpResponse:
    if (denied := _owner_only(request)) is not None:
        return denied
    services.disconnect(_practice(request), actor=acting_user(request))
    messages.success(request, "Stripe account disconnected. Clients can no longer use cards.")
    return redirect("payments:settings")
