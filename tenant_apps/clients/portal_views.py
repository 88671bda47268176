"""Portal views for clients: accepting an invitation, asking for access, demographics."""

import contextlib
import json

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from tenant_apps.accounts.access import acting_user, client_required
from tenant_apps.accounts.models import User
from tenant_apps.clients import selectors, services
from tenant_apps.clients.forms import AccessRequestForm, ClientSetPasswordForm, DemographicsForm
from tenant_apps.clients.models import DemographicRequest
from tenant_apps.portal.null_characters import NULL_CHARACTERS_CODE
from tenant_apps.portal.registry import PortalTask

ACCESS_REQUESTED_MESSAGE = (
    "Thank you. The practice will review your request and email you an invitation."
)


@require_http_methods(["GET", "POST"])
def accept_invitation(request: HttpRequest, token: str) -> HttpResponse:
    """Opening the link only shows the form, so email scanners that pre-open links do not
    use it up; the account is activated when the client submits."""
    invitation = services.find_usable_invitation(token)
    if invitation is None:
        return render(request, "clients/portal/invitation_invalid.html", status=410)

    form = ClientSetPasswordForm(request.POST or None, user=invitation.client.user)
    if request.method == "POST" and form.is_valid():
        try:
            services.accept_invitation(
                token, password=form.cleaned_data["new_password1"], request=request
            )
        except ValidationError:
            return render(request, "clients/portal/invitation_invalid.html", status=410)
        messages.success(request, "Welcome! Your portal account is ready.")
        return redirect("portal:home")
    return render(
        request,
        "clients/portal/accept_invitation.html",
        {"form": form, "client": invitation.client},
    )


@require_http_methods(["GET", "POST"])
def request_access(request: HttpRequest) -> HttpResponse:
    form = AccessRequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        if not data["website"]:
            services.request_access(
                first_name=data["first_name"],
                last_name=data["last_name"],
                email=data["email"],
                phone=data["phone"],
                request=request,
            )
        messages.success(request, ACCESS_REQUESTED_MESSAGE)
        return redirect("portal:home")
    return render(request, "clients/portal/request_access.html", {"form": form})


def _demographics_form_data(request: HttpRequest) -> dict[str, str]:
    return {key: str(value) for key, value in request.POST.items() if key != "csrfmiddlewaretoken"}


@client_required
@require_http_methods(["GET", "POST"])
def demographics(request: HttpRequest, pk: str) -> HttpResponse:
    user = acting_user(request)
    client = selectors.client_for_portal_user(user)
    demographic_request = selectors.get_demographic_request_for_client(client, pk)
    if not demographic_request.is_open_for_client:
        return render(
            request, "clients/portal/demographics_done.html", {"request_obj": demographic_request}
        )

    if request.method == "POST":
        form = DemographicsForm(_demographics_form_data(request), instance=client)
        if form.is_valid():
            values = {name: form.cleaned_data[name] for name in form.fields}
            # The record itself changes only after the practice reviews the submission.
            client.refresh_from_db()
            try:
                services.submit_demographics(demographic_request, actor=user, values=values)
            except ValidationError as error:
                form.add_error(None, error)
            else:
                messages.success(request, "Thank you. Your practice will review your updates.")
                return redirect("portal:home")
        # The form shows its errors with what was typed; the draft keeps it only when it
        # can be stored (a NUL character, reported by the form, cannot).
        with contextlib.suppress(ValidationError):
            services.save_demographic_draft(
                demographic_request, actor=user, values=_demographics_form_data(request)
            )
        client.refresh_from_db()
    else:
        initial = demographic_request.draft or None
        form = DemographicsForm(initial=initial, instance=client)
    return render(
        request,
        "clients/portal/demographics.html",
        {"form": form, "request_obj": demographic_request},
    )


@client_required
@require_POST
def demographics_draft(request: HttpRequest, pk: str) -> HttpResponse:
    """Autosave: the page posts the fields as the client types."""
    user = acting_user(request)
    client = selectors.client_for_portal_user(user)
    demographic_request = selectors.get_demographic_request_for_client(client, pk)
    if request.content_type == "application/json":
        try:
            values = json.loads(request.body or b"{}")
        except ValueError:
            return JsonResponse({"error": "Send the fields as a JSON object."}, status=400)
        if not isinstance(values, dict):
            return JsonResponse({"error": "Send the fields as a JSON object."}, status=400)
    else:
        values = _demographics_form_data(request)
    try:
        saved = services.save_demographic_draft(demographic_request, actor=user, values=values)
    except ValidationError as error:
        status = 400 if error.code == NULL_CHARACTERS_CODE else 409
        return JsonResponse({"error": " ".join(error.messages)}, status=status)
    return JsonResponse(
        {"saved_at": saved.draft_saved_at.isoformat() if saved.draft_saved_at else None}
    )


def demographic_tasks(user: User) -> list[PortalTask]:
    """Open demographic requests, for the portal home's list of what is waiting."""
    requests = DemographicRequest.objects.filter(
        client__user=user, status=DemographicRequest.Status.PENDING
    ).only("pk")
    return [
        PortalTask(
            label="Review and update your information",
            url=reverse("client_portal:demographics", args=[item.pk]),
        )
        for item in requests
    ]
