"""Document emails: something is waiting in the portal; never a title, name or message."""

from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse

from tenant_apps.documents.models import DocumentShare
from tenant_apps.documents.services import DOCUMENTS_SHARED
from tenant_apps.mail.models import EmailDelivery
from tenant_apps.mail.registry import email_kind
from tenants.hosts import practice_url
from tenants.schemas import current_practice


@email_kind(DOCUMENTS_SHARED)
def documents_shared(delivery: EmailDelivery) -> EmailMultiAlternatives | None:
    share = DocumentShare.objects.filter(pk=delivery.object_id or 0).first()
    if share is None or not share.is_active:
        return None
    practice = current_practice()
    link = practice_url(practice, reverse("client_documents:list"))
    body = render_to_string("emails/documents_shared.txt", {"practice": practice, "link": link})
    return EmailMultiAlternatives(
        subject=f"{practice.name} shared a document in your Client Portal",
        body=body,
        to=[delivery.to_email],
    )
