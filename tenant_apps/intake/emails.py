"""Form emails say only that forms are waiting and link to the portal: no form names, no
questions, no answers, no message from the practice (that is shown in the portal)."""

from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string

from tenant_apps.intake.models import FormRequest, Submission
from tenant_apps.intake.services import FORMS_REMINDER, FORMS_REQUESTED
from tenant_apps.mail.models import EmailDelivery
from tenant_apps.mail.registry import email_kind
from tenants.hosts import practice_url
from tenants.schemas import current_practice


def _open_request(delivery: EmailDelivery) -> FormRequest | None:
    form_request = FormRequest.objects.filter(pk=delivery.object_id or 0).first()
    if form_request is None or form_request.cancelled_at is not None:
        return None
    if not form_request.submissions.filter(status__in=Submission.OPEN_STATUSES).exists():
        return None
    return form_request


def _message(delivery: EmailDelivery, *, reminder: bool) -> EmailMultiAlternatives | None:
    form_request = _open_request(delivery)
    if form_request is None:
        return None
    practice = current_practice()
    body = render_to_string(
        "intake/emails/forms_waiting.txt",
        {"practice": practice, "link": practice_url(practice, "/"), "reminder": reminder},
    )
    subject = (
        f"Reminder: {practice.name} has forms waiting in your Client Portal"
        if reminder
        else f"{practice.name} has forms waiting in your Client Portal"
    )
    return EmailMultiAlternatives(subject=subject, body=body, to=[delivery.to_email])


@email_kind(FORMS_REQUESTED)
def forms_requested(delivery: EmailDelivery) -> EmailMultiAlternatives | None:
    return _message(delivery, reminder=False)


@email_kind(FORMS_REMINDER)
def forms_reminder(delivery: EmailDelivery) -> EmailMultiAlternatives | None:
    return _message(delivery, reminder=True)
