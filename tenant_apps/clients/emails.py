"""Client emails. They name the practice and link to the portal; nothing about health."""

from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from tenant_apps.clients.models import DemographicRequest, PortalInvitation
from tenant_apps.clients.services import CLIENT_INVITATION, DEMOGRAPHICS_REQUESTED
from tenant_apps.mail.models import EmailDelivery
from tenant_apps.mail.registry import email_kind
from tenants.hosts import practice_url
from tenants.schemas import current_practice


@email_kind(CLIENT_INVITATION)
def client_invitation(delivery: EmailDelivery) -> EmailMultiAlternatives | None:
    """The token is made here, at sending time, so no usable token rests in the database
    before the email exists; a failed send rolls the token back with the delivery."""
    invitation = PortalInvitation.objects.filter(pk=delivery.object_id or 0).first()
    if invitation is None or not invitation.is_usable_at(timezone.now()):
        return None
    practice = current_practice()
    token = invitation.issue_token()
    link = practice_url(practice, reverse("client_portal:accept_invitation", args=[token]))
    body = render_to_string(
        "emails/client_invitation.txt",
        {"practice": practice, "link": link, "expires_at": invitation.expires_at},
    )
    return EmailMultiAlternatives(
        subject=f"{practice.name} invites you to its Client Portal",
        body=body,
        to=[delivery.to_email],
    )


@email_kind(DEMOGRAPHICS_REQUESTED)
def demographics_requested(delivery: EmailDelivery) -> EmailMultiAlternatives | None:
    demographic_request = DemographicRequest.objects.filter(pk=delivery.object_id or 0).first()
    if demographic_request is None or not demographic_request.is_open_for_client:
        return None
    practice = current_practice()
    link = practice_url(practice, "/")
    body = render_to_string(
        "emails/demographics_requested.txt", {"practice": practice, "link": link}
    )
    return EmailMultiAlternatives(
        subject=f"{practice.name} has a request waiting in your Client Portal",
        body=body,
        to=[delivery.to_email],
    )
