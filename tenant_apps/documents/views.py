"""Workspace views: the practice library, sharing, unsharing, opening, client uploads."""

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from tenant_apps.accounts.access import acting_user, redirect_to_sign_in, staff_required
from tenant_apps.accounts.models import Role, User
from tenant_apps.clients.models import Client
from tenant_apps.clients.selectors import clients_for_staff, get_client_for_staff
from tenant_apps.documents import selectors, services
from tenant_apps.documents.forms import DocumentSettingsForm, ShareDocumentForm, ShareFilesForm
from tenant_apps.documents.responses import document_response

PAGE_SIZE = 50
View = Callable[..., HttpResponseBase]
PageView = Callable[..., HttpResponse]


def document_staff_required(view: PageView) -> PageView:
    """Owners and clinicians; billers get a page saying documents are not for their role."""

    @staff_required
    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not selectors.handles_documents(acting_user(request)):
            return render(request, "documents/not_for_role.html", status=403)
        return view(request, *args, **kwargs)

    return wrapped


def staff_file_view(view: View) -> View:
    """For URLs that answer with a file. A visitor who is not signed in is sent to the staff
    sign-in and back, as on every workspace page; that answer is the same for every id, so it
    says nothing about the document. A signed-in user who does not handle documents (a
    client, a biller) gets a plain 404."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        user = request.user
        if not user.is_authenticated:
            return redirect_to_sign_in(request, "accounts:staff_login")
        if not isinstance(user, User) or not selectors.handles_documents(user):
            raise Http404("No such document")
        return view(request, *args, **kwargs)

    return wrapped


def _wants_json(request: HttpRequest) -> bool:
    return "application/json" in request.headers.get("Accept", "")


def _next_or(request: HttpRequest, fallback: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return fallback


@document_staff_required
@require_GET
def library(request: HttpRequest) -> HttpResponse:
    user = acting_user(request)
    page = Paginator(selectors.library_documents(user), PAGE_SIZE).get_page(request.GET.get("page"))
    settings_row = selectors.document_settings()
    context: dict[str, Any] = {
        "page": page,
        "unseen_uploads": list(selectors.unseen_client_uploads(user)[:100]),
        "settings_row": settings_row,
    }
    if user.role == Role.OWNER:
        used = selectors.storage_used_bytes()
        context["quota"] = {
            "used": used,
            "limit": settings_row.quota_bytes,
            "percent": min(100, round(100 * used / settings_row.quota_bytes))
            if settings_row.quota_bytes
            else 100,
        }
        context["settings_form"] = DocumentSettingsForm(
            initial={"clients_may_upload": settings_row.clients_may_upload}
        )
    return render(request, "documents/library.html", context)


@document_staff_required
@require_http_methods(["GET", "POST"])
def share_files(request: HttpRequest) -> HttpResponse:
    """Upload one or several files and share them with clients, keep them in the library,
    or both. Answers JSON to the page's progress-bar upload, HTML otherwise."""
    user = acting_user(request)
    visible = clients_for_staff(user)
    client: Client | None = None
    client_pk = request.GET.get("client", "")
    if client_pk:
        client = get_client_for_staff(user, client_pk)
    initial = {"clients": [client.pk]} if client else {"keep_in_library": True}
    posted = request.method == "POST"
    form = ShareFilesForm(
        request.POST if posted else None,
        request.FILES if posted else None,
        clients=visible,
        initial=initial,
    )

    if posted:
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.share_new_files(
                    data["uploads"],
                    actor=user,
                    title=data["title"],
                    message=data["message"],
                    clients=list(data["clients"]),
                    keep_in_library=data["keep_in_library"],
                )
            except ValidationError as error:
                form.add_error(None, error)
            else:
                count = len(data["uploads"])
                messages.success(request, f"{count} file(s) uploaded and shared.")
                target = (
                    reverse("clients:detail", args=[client.pk])
                    if client
                    else reverse("documents:library")
                )
                if _wants_json(request):
                    return JsonResponse({"ok": True, "redirect": target})
                return redirect(target)
        if _wants_json(request):
            return JsonResponse({"ok": False, "errors": form.errors.get_json_data()}, status=400)

    return render(request, "documents/share_files.html", {"form": form, "client": client})


@document_staff_required
@require_GET
def document_detail(request: HttpRequest, pk: str) -> HttpResponse:
    user = acting_user(request)
    document = selectors.get_document_for_staff(user, pk)
    shares = (
        selectors.shares_for_staff(user)
        .filter(document=document)
        .select_related("client", "shared_by")
        .order_by("revoked_at", "-shared_at")
    )
    return render(
        request,
        "documents/detail.html",
        {
            "document": document,
            "shares": shares,
            "share_form": ShareDocumentForm(clients=clients_for_staff(user)),
            "can_delete": user.role == Role.OWNER or document.uploaded_by_id == user.pk,
        },
    )


@document_staff_required
@require_POST
def share_document(request: HttpRequest, pk: str) -> HttpResponse:
    user = acting_user(request)
    document = selectors.get_document_for_staff(user, pk)
    form = ShareDocumentForm(request.POST, clients=clients_for_staff(user))
    if form.is_valid():
        shares = services.share_document(
            document,
            actor=user,
            clients=list(form.cleaned_data["clients"]),
            message=form.cleaned_data["message"],
        )
        messages.success(request, f"Shared with {len(shares)} client(s).")
    else:
        messages.error(request, "Choose at least one client to share with.")
    return redirect("documents:detail", pk=document.pk)


@document_staff_required
@require_POST
def unshare(request: HttpRequest, pk: str) -> HttpResponse:
    user = acting_user(request)
    share = selectors.get_share_for_staff(user, pk)
    services.unshare(share, actor=user)
    messages.success(request, "Unshared. The client can no longer open this document.")
    return redirect(_next_or(request, reverse("documents:detail", args=[share.document_id])))


@document_staff_required
@require_POST
def delete(request: HttpRequest, pk: str) -> HttpResponse:
    user = acting_user(request)
    document = selectors.get_document_for_staff(user, pk)
    try:
        services.delete_document(document, actor=user)
    except PermissionError as error:
        messages.error(request, str(error))
        return redirect("documents:detail", pk=document.pk)
    messages.success(request, "Document deleted.")
    return redirect("documents:library")


@document_staff_required
@require_POST
def mark_seen(request: HttpRequest, pk: str) -> HttpResponse:
    user = acting_user(request)
    document = selectors.get_document_for_staff(user, pk)
    services.mark_upload_seen(document, actor=user)
    return redirect(_next_or(request, reverse("documents:library")))


@document_staff_required
@require_POST
def update_settings(request: HttpRequest) -> HttpResponse:
    user = acting_user(request)
    if user.role != Role.OWNER:
        return render(request, "workspace/owner_only.html", status=403)
    form = DocumentSettingsForm(request.POST)
    form.is_valid()
    services.update_document_settings(
        actor=user, clients_may_upload=form.cleaned_data.get("clients_may_upload", False)
    )
    messages.success(request, "Document settings saved.")
    return redirect("documents:library")


def _open(request: HttpRequest, pk: str, *, inline: bool) -> HttpResponseBase:
    user = acting_user(request)
    document = selectors.get_document_for_staff(user, pk)
    response = document_response(document, inline=inline)
    services.record_open(document, actor=user, share=None, inline=inline, request=request)
    return response


@staff_file_view
@require_GET
def view_file(request: HttpRequest, pk: str) -> HttpResponseBase:
    return _open(request, pk, inline=True)


@staff_file_view
@require_GET
def download_file(request: HttpRequest, pk: str) -> HttpResponseBase:
    return _open(request, pk, inline=False)


def client_panel(request: HttpRequest, user: User, client: Client) -> dict[str, Any]:
    """The Documents panel on a client's page (owners and clinicians only)."""
    uploads = list(selectors.uploads_of_client(client))
    return {
        "client": client,
        "shares": list(selectors.shares_of_client_for_staff(client)),
        "uploads": uploads,
        "new_uploads": sum(1 for document in uploads if document.is_new_for_staff),
    }
