"""The client portal at the root of a practice's host."""

from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from tenant_apps.accounts.access import acting_user, client_required
from tenant_apps.accounts.forms import ClientSignInForm
from tenant_apps.booking.access import online_booking_enabled
from tenant_apps.portal import registry


def landing(request: HttpRequest) -> HttpResponse:
    """The practice's shared link: its details and client sign-in, or the signed-in home."""
    if request.user.is_authenticated and request.user.is_client:  # type: ignore[union-attr]
        return client_home(request)
    return render(request, "portal/landing.html", {"form": ClientSignInForm(request)})


@client_required
def client_home(request: HttpRequest) -> HttpResponse:
    practice = request.tenant  # type: ignore[attr-defined]
    user = acting_user(request)
    sections, tasks = registry.home_for(request, user)
    return render(
        request,
        "portal/home.html",
        {
            "show_appointments": online_booking_enabled(practice),
            "sections": sections,
            "tasks": tasks,
        },
    )


class ClientSignInView(auth_views.LoginView):
    template_name = "portal/landing.html"
    form_class = ClientSignInForm
    next_page = "portal:home"
