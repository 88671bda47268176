"""Intake of Stripe Connect webhook events on the platform host.

One endpoint receives the events of every connected account. An event is trusted only if its
signature verifies against the signing secret on the raw body; it is then stored under its
unique event id (a redelivery finds the row and does nothing), routed by its `account` to the
practice that owns that account, and processed by a Celery task in that practice's schema.
"""

import enum
import logging

import stripe
from django.conf import settings
from django.db import IntegrityError, transaction
from django_tenants.utils import schema_context

from config.celery import enqueue_on_commit
from shared_apps.payments.models import RejectedWebhook, StripeAccount, WebhookEvent

logger = logging.getLogger(__name__)


class Outcome(enum.Enum):
    REJECTED = "rejected"
    DUPLICATE = "duplicate"
    IGNORED = "ignored"
    QUEUED = "queued"


def receive(payload: bytes, *, signature: str | None, remote_addr: str | None) -> Outcome:
    """Verify, record and route one delivery. Only REJECTED should be answered with an error;
    anything else is acknowledged so Stripe stops retrying."""
    secret = settings.STRIPE_WEBHOOK_SECRET
    try:
        if not secret:
            # An empty key would make every signature computable by anyone.
            raise stripe.SignatureVerificationError("no signing secret configured", signature)
        event = stripe.Webhook.construct_event(payload, signature, secret)
    except (ValueError, stripe.SignatureVerificationError) as error:
        verified = not isinstance(error, stripe.SignatureVerificationError)
        reason = "bad_payload" if verified else "bad_signature"
        RejectedWebhook.objects.create(
            reason=reason, remote_addr=remote_addr or None, body_bytes=len(payload)
        )
        logger.warning("Rejected a Stripe webhook delivery: %s", reason)
        return Outcome.REJECTED

    body = event.to_dict()
    account_id = str(body.get("account") or "")
    object_id = str((body.get("data") or {}).get("object", {}).get("id") or "")
    stripe_account = (
        StripeAccount.objects.select_related("practice").filter(account_id=account_id).first()
        if account_id
        else None
    )
    practice = stripe_account.practice if stripe_account is not None else None
    try:
        with transaction.atomic():
            record = WebhookEvent.objects.create(
                event_id=event.id,
                type=event.type,
                account_id=account_id,
                object_id=object_id,
                practice=practice,
                status=WebhookEvent.Status.QUEUED
                if practice is not None
                else WebhookEvent.Status.IGNORED,
                note="" if practice is not None else "unknown_account",
            )
    except IntegrityError:
        logger.debug("Stripe event %s was already received", event.id)
        return Outcome.DUPLICATE

    if practice is None:
        logger.info("Ignored Stripe event %s for account %s: not connected", event.id, account_id)
        return Outcome.IGNORED

    from shared_apps.payments.tasks import process_webhook_event

    # enqueue_on_commit captures the active schema: the task runs in the practice's.
    with schema_context(practice.schema_name):
        enqueue_on_commit(process_webhook_event, record.pk)
    return Outcome.QUEUED
