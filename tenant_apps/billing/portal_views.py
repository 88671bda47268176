"""The client's Billing & Payments: balance, open invoices, and the documents shared with
them, each viewable and downloadable as PDF."""

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from tenant_apps.accounts.access import acting_user, client_required
from tenant_apps.accounts.models import User
from tenant_apps.audit.services import record_event
from tenant_apps.billing import selectors
from tenant_apps.billing.views import pdf_response
from tenant_apps.clients.selectors import client_for_portal_user


def portal_section(request: HttpRequest, user: User) -> dict[str, Any]:
    """The portal home's Billing & Payments card (cached; see selectors.portal_summary)."""
    return {"summary": selectors.portal_summary(user)}


@client_required
def billing(request: HttpRequest) -> HttpResponse:
    user = acting_user(request)
    client = client_for_portal_user(user)
    return render(
        request,
        "billing/portal/billing.html",
        {
            "balance": selectors.client_balance(client),
            "open_invoices": selectors.open_invoices(client).select_related("document"),
            "documents": selectors.shared_documents(client),
        },
    )


def _document(request: HttpRequest, pk: str, *, download: bool) -> HttpResponse:
    user = acting_user(request)
    client = client_for_portal_user(user)
    document = selectors.get_document_for_client(client, pk)
    record_event(
        user,
        "billing.document_downloaded" if download else "billing.document_viewed",
        target=document,
        request=request,
    )
    return pdf_response(document, download=download)


@client_required
def document_view(request: HttpRequest, pk: str) -> HttpResponse:
    return _document(request, pk, download=False)


@client_required
def document_download(request: HttpRequest, pk: str) -> HttpResponse:
    return _document(request, pk, download=True)
