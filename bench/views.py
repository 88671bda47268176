"""Views the HTTP benchmark serves beside the real ones. Never routed in the application."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from shared_apps.plans.models import Plan
from tenant_apps.audit.models import AuditEvent
from tenant_apps.mail.models import EmailDelivery


def trivial(request: HttpRequest) -> HttpResponse:
    """A tiny response that touches neither the session nor the database."""
    return HttpResponse(b"ok", content_type="text/plain")


@login_required
def stock_home(request: HttpRequest) -> HttpResponse:
    """A signed-in page as a stock django-tenants project would write it: three queries and a
    small template, behind the session sign-in check."""
    user = request.user
    context = {
        "plan": Plan.objects.get(pk=request.tenant.plan_id),  # type: ignore[attr-defined]
        "emails": EmailDelivery.objects.filter(recipient_id=user.pk).count(),
        "events": list(AuditEvent.objects.filter(actor_id=user.pk)[:5]),
    }
    return render(request, "bench/stock_home.html", context)
