"""The account emails. They name the practice and carry a link; nothing about health."""

from django.contrib.auth.tokens import default_token_generator
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from tenant_apps.accounts.models import User
from tenant_apps.accounts.services import PASSWORD_RESET, STAFF_INVITATION
from tenant_apps.mail.models import EmailDelivery
from tenant_apps.mail.registry import email_kind
from tenants.hosts import practice_url
from tenants.schemas import current_practice


def _recipient(delivery: EmailDelivery) -> User:
    if delivery.recipient is None:
        raise LookupError(f"Email delivery {delivery.pk} has no recipient any more")
    return delivery.recipient


def _token_path(user: User, url_name: str) -> str:
    return reverse(
        url_name,
        kwargs={
            "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
            "token": default_token_generator.make_token(user),
        },
    )


def _message(
    delivery: EmailDelivery, subject: str, template: str, **context: object
) -> EmailMultiAlternatives:
    body = render_to_string(template, context)
    return EmailMultiAlternatives(subject=subject, body=body, to=[delivery.to_email])


@email_kind(STAFF_INVITATION)
def staff_invitation(delivery: EmailDelivery) -> EmailMultiAlternatives:
    practice = current_practice()
    user = _recipient(delivery)
    link = practice_url(practice, _token_path(user, "accounts:staff_welcome"))
    return _message(
        delivery,
        f"You're invited to {practice.name}",
        "emails/staff_invitation.txt",
        practice=practice,
        user=user,
        link=link,
    )


@email_kind(PASSWORD_RESET)
def password_reset(delivery: EmailDelivery) -> EmailMultiAlternatives:
    practice = current_practice()
    user = _recipient(delivery)
    url_name = (
        "accounts:staff_password_reset_confirm"
        if user.is_practice_staff
        else "portal:password_reset_confirm"
    )
    link = practice_url(practice, _token_path(user, url_name))
    return _message(
        delivery,
        f"Reset your password for {practice.name}",
        "emails/password_reset.txt",
        practice=practice,
        user=user,
        link=link,
    )
