"""The client portal at the root of a practice's host."""

from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse

from tenant_apps.accounts.access import acting_user, client_required
from tenant_apps.accounts.forms import ClientSignInForm
from tenant_apps.accounts.models import User
from tenant_apps.clients.models import DemographicRequest


def landing(request: HttpRequest) -> HttpResponse:
    """The practice's shared link: its details and client sign-in, or the signed-in home."""
    if request.user.is_authenticated and request.user.is_client:  # type: ignore[union-attr]
        return client_home(request)
    return render(request, "portal/landing.html", {"form": ClientSignInForm(request)})


@client_required
def client_home(request: HttpRequest) -> HttpResponse:
    practice = request.tenant  # type: ignore[attr-defined]
    return render(
        request,
        "portal/home.html",
        {
            "show_appointments": practice.booking_available,
            "tasks": portal_tasks(acting_user(request)),
        },
    )


def portal_tasks(user: User) -> list[dict[str, str]]:
    """What the practice is waiting for from this client, newest first."""
    tasks = []
    for demographic_request in DemographicRequest.objects.filter(
        client__user=user, status=DemographicRequest.Status.PENDING
    ).only("pk"):
        tasks.append(
            {
                "label": "Review and update your information",
                "url": reverse("client_portal:demographics", args=[demographic_request.pk]),
            }
        )
    return tasks


class ClientSignInView(auth_views.LoginView):
    template_name = "portal/landing.html"
    form_class = ClientSignInForm
    next_page = "portal:home"
