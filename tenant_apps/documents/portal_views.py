"""Portal views: the client's Documents section, opening files, sending files."""

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
from django.views.decorators.http import require_GET, require_POST

from tenant_apps.accounts.access import acting_user, client_required, redirect_to_sign_in
from tenant_apps.accounts.models import User
from tenant_apps.clients.models import Client
from tenant_apps.documents import selectors, services
from tenant_apps.documents.forms import ClientUploadForm
from tenant_apps.documents.responses import document_response

PAGE_SIZE = 100
HOME_PREVIEW = 5
View = Callable[..., HttpResponseBase]


def _client_of(user: User) -> Client | None:
    return Client.objects.filter(user=user).first()


def client_file_view(view: View) -> View:
    """For URLs that answer with a file. A visitor who is not signed in (an expired session, a
    link opened from an email) is sent to sign in and back, as on every portal page; that
    answer is the same for every id, so it says nothing about the document. A signed-in user
    who is not a client gets a plain 404."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        user = request.user
        if not user.is_authenticated:
            return redirect_to_sign_in(request, "portal:login")
        if not isinstance(user, User) or not user.is_client:
            raise Http404("No such document")
        return view(request, *args, **kwargs)

    return wrapped


@client_required
@require_GET
def document_list(request: HttpRequest) -> HttpResponse:
    client = _client_of(acting_user(request))
    if client is None:
        raise Http404("No client record for this account")
    page = Paginator(selectors.shared_with_client(client), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    settings_row = selectors.document_settings()
    return render(
        request,
        "documents/portal/list.html",
        {
            "page": page,
            "uploads": selectors.uploads_of_client(client)[:50],
            "upload_form": ClientUploadForm() if settings_row.clients_may_upload else None,
        },
    )


@client_required
@require_POST
def upload(request: HttpRequest) -> HttpResponse:
    """The client sends files. Answers JSON to the page's progress-bar upload, and a redirect
    with a message otherwise."""
    user = acting_user(request)
    client = _client_of(user)
    if client is None:
        raise Http404("No client record for this account")
    form = ClientUploadForm(request.POST, request.FILES)
    wants_json = "application/json" in request.headers.get("Accept", "")

    problems: list[str] = []
    if form.is_valid():
        try:
            services.client_upload(
                form.cleaned_data["uploads"],
                client=client,
                actor=user,
                title=form.cleaned_data["title"],
            )
        except services.QuotaExceeded:
            problems = ["The practice can't accept files right now. Please contact them."]
        except ValidationError as problem:
            problems = list(problem.messages)
    else:
        problems = [
            str(item["message"])
            for errors in form.errors.get_json_data().values()
            for item in errors
        ]

    if not problems:
        messages.success(request, "Thank you. Your files were sent to the practice.")
        if wants_json:
            return JsonResponse({"ok": True, "redirect": reverse("client_documents:list")})
        return redirect("client_documents:list")
    if wants_json:
        errors = {"__all__": [{"message": text} for text in problems]}
        return JsonResponse({"ok": False, "errors": errors}, status=400)
    messages.error(request, " ".join(problems))
    return redirect("client_documents:list")


def _open(request: HttpRequest, pk: str, *, inline: bool) -> HttpResponseBase:
    user = acting_user(request)
    client = _client_of(user)
    if client is None:
        raise Http404("No such document")
    document, share = selectors.get_document_for_client(client, pk)
    response = document_response(document, inline=inline)
    services.record_open(document, actor=user, share=share, inline=inline, request=request)
    return response


@client_file_view
@require_GET
def view_file(request: HttpRequest, pk: str) -> HttpResponseBase:
    return _open(request, pk, inline=True)


@client_file_view
@require_GET
def download_file(request: HttpRequest, pk: str) -> HttpResponseBase:
    return _open(request, pk, inline=False)


def home_section(request: HttpRequest, user: User) -> dict[str, Any]:
    """The Documents card on the portal home: how many are new, and the latest few."""
    new_count, latest = selectors.home_summary(user, latest=HOME_PREVIEW)
    return {"new_count": new_count, "latest": latest}
