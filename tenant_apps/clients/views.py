"""Workspace views for client records, invitations and demographic reviews."""

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from tenant_apps.accounts.access import acting_user, staff_required
from tenant_apps.accounts.models import Role
from tenant_apps.audit.services import record_event
from tenant_apps.clients import selectors, services
from tenant_apps.clients.forms import ClientFilterForm, ClientForm
from tenant_apps.clients.models import Client, DemographicRequest
from tenant_apps.clients.panels import panels_for
from tenant_apps.practice.form_tokens import posted_form_token

PAGE_SIZE = 25


@staff_required
@require_http_methods(["GET", "POST"])
def client_list(request: HttpRequest) -> HttpResponse:
    user = acting_user(request)
    if request.method == "POST":
        return _bulk_invite(request)

    filters = ClientFilterForm(request.GET or None)
    filters.is_valid()
    data = filters.cleaned_data if filters.is_bound else {}
    clients = selectors.search_clients(
        user,
        query=data.get("q", ""),
        status=data.get("status", ""),
        clinician_id=data.get("clinician", ""),
    )
    page = Paginator(clients, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "clients/list.html",
        {
            "page": page,
            "filters": filters,
            "clinicians": selectors.clinicians(user),
            "query_string": query.urlencode(),
        },
    )


def _bulk_invite(request: HttpRequest) -> HttpResponse:
    user = acting_user(request)
    ids = [pk for pk in request.POST.getlist("client") if pk.isdigit()]
    clients = selectors.clients_for_staff(user).filter(pk__in=ids).select_related("user")
    sent, skipped = 0, 0
    for client in clients:
        try:
            services.invite_client(client, actor=user)
            sent += 1
        except ValidationError:
            skipped += 1
    messages.success(request, f"Invitations sent: {sent}. Skipped: {skipped}.")
    return redirect("clients:list")


@staff_required
@require_http_methods(["GET", "POST"])
def client_create(request: HttpRequest) -> HttpResponse:
    user = acting_user(request)
    form = ClientForm(
        request.POST or None,
        clinicians=selectors.clinicians(user),
        show_notes=user.role != Role.BILLER,
        initial={"assigned_clinician": user if user.role == Role.CLINICIAN else None},
    )
    token = posted_form_token(request.POST) if request.method == "POST" else ""
    earlier = selectors.client_added_by_form(user, token)
    if earlier is not None:
        # The same form sent again (a double click, a retry): the first submit added the
        # client, and checking the form now would only find its email address taken. Sent
        # again with another name (Back, edit, save), it says nothing more was added.
        if _same_client(earlier, request.POST):
            messages.success(request, "Client added.")
            return redirect("clients:detail", pk=earlier.pk)
        form.refuse_used_token(
            f"This form already added {earlier.display_name}, and nothing else was saved. "
            "Check the details and save again to add another client."
        )
    elif request.method == "POST" and form.is_valid():
        try:
            client = services.add_client(
                form.instance, actor=user, form_token=form.cleaned_data["form_token"]
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, "Client added.")
            return redirect("clients:detail", pk=client.pk)
    return render(request, "clients/form.html", {"form": form, "title": "Add a client"})


def _same_client(client: Client, data: QueryDict) -> bool:
    """Whether a posted new-client form names `client` (legal name, as typed)."""
    posted = (str(data.get("legal_first_name", "")), str(data.get("legal_last_name", "")))
    return tuple(part.strip() for part in posted) == (
        client.legal_first_name,
        client.legal_last_name,
    )


@staff_required
def client_detail(request: HttpRequest, pk: str) -> HttpResponse:
    user = acting_user(request)
    client = selectors.get_client_for_staff(user, pk)
    record_event(user, "client.viewed", target=client, request=request)
    latest = selectors.latest_invitation(client)
    return render(
        request,
        "clients/detail.html",
        {
            "client": client,
            "portal": services.portal_status(client, latest),
            "latest_invitation": latest,
            "demographic_requests": client.demographic_requests.select_related("requested_by"),
            "show_notes": user.role != Role.BILLER,
            "locked_out": _is_locked_out(client),
            "panels": panels_for(request, user, client),
        },
    )


def _is_locked_out(client: Client) -> bool:
    from axes.models import AccessAttempt
    from django.conf import settings

    if client.user is None:
        return False
    return AccessAttempt.objects.filter(
        username=client.user.email, failures_since_start__gte=settings.AXES_FAILURE_LIMIT
    ).exists()


@staff_required
@require_http_methods(["GET", "POST"])
def client_edit(request: HttpRequest, pk: str) -> HttpResponse:
    user = acting_user(request)
    client = selectors.get_client_for_staff(user, pk)
    form = ClientForm(
        request.POST or None,
        instance=client,
        clinicians=selectors.clinicians(user),
        show_notes=user.role != Role.BILLER,
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.save_client(form.instance, actor=user, changed=form.changed_data)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, "Client details saved.")
            return redirect("clients:detail", pk=client.pk)
    return render(
        request, "clients/form.html", {"form": form, "client": client, "title": "Edit client"}
    )


@staff_required
@require_POST
def client_invite(request: HttpRequest, pk: str) -> HttpResponse:
    user = acting_user(request)
    client = selectors.get_client_for_staff(user, pk)
    try:
        services.invite_client(client, actor=user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, f"Invitation sent to {client.email}.")
    return redirect("clients:detail", pk=client.pk)


@staff_required
@require_POST
def client_revoke(request: HttpRequest, pk: str) -> HttpResponse:
    user = acting_user(request)
    client = selectors.get_client_for_staff(user, pk)
    services.revoke_invitation(client, actor=user)
    messages.success(request, "Portal access revoked.")
    return redirect("clients:detail", pk=client.pk)


@staff_required
@require_POST
def client_unlock(request: HttpRequest, pk: str) -> HttpResponse:
    user = acting_user(request)
    client = selectors.get_client_for_staff(user, pk)
    services.unlock_sign_in(client, actor=user)
    messages.success(request, "Sign-in unlocked.")
    return redirect("clients:detail", pk=client.pk)


@staff_required
@require_POST
def demographics_request(request: HttpRequest, pk: str) -> HttpResponse:
    user = acting_user(request)
    client = selectors.get_client_for_staff(user, pk)
    try:
        services.request_demographics(client, actor=user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, "Demographic information requested.")
    return redirect("clients:detail", pk=client.pk)


@staff_required
@require_http_methods(["GET", "POST"])
def demographics_review(request: HttpRequest, pk: str, request_pk: str) -> HttpResponse:
    user = acting_user(request)
    demographic_request = selectors.get_demographic_request_for_staff(user, pk, request_pk)
    client = demographic_request.client
    if request.method == "POST":
        decision = request.POST.get("decision")
        changes = services.demographic_changes(demographic_request)
        if decision == "accept_all":
            accepted = [c["field"] for c in changes]
        elif decision == "accept_selected":
            accepted = request.POST.getlist("field")
        else:
            accepted = []
        try:
            services.review_demographics(demographic_request, actor=user, accepted=accepted)
        except ValidationError as error:
            # Nothing was written; the request stays open for another decision.
            demographic_request.refresh_from_db()
            return _review_page(
                request, demographic_request, error=error, ticked=accepted, status=400
            )
        messages.success(request, f"Review saved: {len(accepted)} change(s) accepted.")
        return redirect("clients:detail", pk=client.pk)

    record_event(user, "client.demographics_viewed", target=client, request=request)
    return _review_page(request, demographic_request)


def _review_page(
    request: HttpRequest,
    demographic_request: DemographicRequest,
    *,
    error: ValidationError | None = None,
    ticked: list[str] | None = None,
    status: int = 200,
) -> HttpResponse:
    client = demographic_request.client
    changes: list[dict[str, Any]] = (
        services.demographic_changes(demographic_request)
        if demographic_request.status == DemographicRequest.Status.SUBMITTED
        else []
    )
    # An address taken since the client submitted cannot be accepted: say so, unticked.
    for change in changes:
        change["taken"] = change["field"] == "email" and selectors.email_used_by_another(
            client, change["proposed"]
        )
    if ticked is None:
        ticked = [c["field"] for c in changes]
    ticked = [c["field"] for c in changes if c["field"] in ticked and not c["taken"]]
    return render(
        request,
        "clients/demographics_review.html",
        {
            "client": client,
            "demographic_request": demographic_request,
            "changes": changes,
            "ticked": ticked,
            "errors": error.messages if error is not None else [],
        },
        status=status,
    )
