"""The payment receipt email says only that a payment was received and links to the portal,
where the receipt is: no amount, no card, no invoice, nothing about the services."""

from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse

from tenant_apps.mail.models import EmailDelivery
from tenant_apps.mail.registry import email_kind
from tenant_apps.payments.charging import PAYMENT_RECEIVED
from tenant_apps.payments.models import PaymentAttempt
from tenants.hosts import practice_url
from tenants.schemas import current_practice


@email_kind(PAYMENT_RECEIVED)
def payment_received(delivery: EmailDelivery) -> EmailMultiAlternatives | None:
    attempt = PaymentAttempt.objects.filter(
        pk=delivery.object_id or 0, status=PaymentAttempt.Status.SUCCEEDED
    ).first()
    if attempt is None:
        return None
    practice = current_practice()
    body = render_to_string(
        "emails/payment_received.txt",
        {
            "practice": practice,
            "link": practice_url(practice, reverse("pay_portal:receipt", args=[attempt.pk])),
        },
    )
    return EmailMultiAlternatives(
        subject=f"{practice.name}: your payment was received",
        body=body,
        to=[delivery.to_email],
    )
