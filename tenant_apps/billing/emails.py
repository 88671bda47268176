"""Billing emails say that a document is waiting and link to the portal: no amounts, no
services, no diagnoses, not even which kind of document."""

from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string

from tenant_apps.billing.models import BillingDocument
from tenant_apps.billing.services import DOCUMENT_READY
from tenant_apps.mail.models import EmailDelivery
from tenant_apps.mail.registry import email_kind
from tenants.hosts import practice_url
from tenants.schemas import current_practice


@email_kind(DOCUMENT_READY)
def document_ready(delivery: EmailDelivery) -> EmailMultiAlternatives | None:
    document = BillingDocument.objects.filter(pk=delivery.object_id or 0).first()
    if document is None or document.shared_at is None:
        return None
    practice = current_practice()
    body = render_to_string(
        "emails/billing_document_ready.txt",
        {"practice": practice, "link": practice_url(practice, "/billing/")},
    )
    return EmailMultiAlternatives(
        subject=f"{practice.name}: a new billing document is in your Client Portal",
        body=body,
        to=[delivery.to_email],
    )
