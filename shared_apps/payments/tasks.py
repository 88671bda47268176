"""Processing of verified Stripe webhook events, in the schema of the practice they concern."""

import logging

import stripe
from django.db import transaction
from django.utils import timezone

from config.celery import app
from shared_apps.payments import services
from shared_apps.payments.handlers import handler_for
from shared_apps.payments.models import WebhookEvent
from tenants.schemas import current_practice

logger = logging.getLogger(__name__)

ACCOUNT_EVENTS = frozenset({"account.updated", "account.application.authorized"})


@app.task(bind=True, max_retries=5, default_retry_delay=30)
def process_webhook_event(self, webhook_event_pk: int) -> str:  # type: ignore[no-untyped-def]
    """Act on one stored event, at most once. State is read back from Stripe rather than
    taken from the event, so duplicates and events arriving out of order are harmless."""
    practice = current_practice()
    with transaction.atomic():
        event = (
            WebhookEvent.objects.select_for_update()
            .filter(pk=webhook_event_pk, practice=practice)
            .first()
        )
        if event is None or event.processed_at is not None:
            return "skipped"

        if event.type in ACCOUNT_EVENTS:
            try:
                services.refresh_account(practice)
            except (stripe.APIConnectionError, stripe.RateLimitError) as error:
                # Rolled back: the retry finds the event still unprocessed.
                raise self.retry(exc=error) from error
            event.status = WebhookEvent.Status.PROCESSED
        elif (handler := handler_for(event.type)) is not None:
            try:
                event.note = handler(event.object_id, event.account_id)[:64]
            except (stripe.APIConnectionError, stripe.RateLimitError) as error:
                raise self.retry(exc=error) from error
            event.status = WebhookEvent.Status.PROCESSED
        else:
            event.status = WebhookEvent.Status.IGNORED
            event.note = "unhandled_type"
        event.processed_at = timezone.now()
        event.save(update_fields=["status", "note", "processed_at"])

    logger.info("Processed Stripe event %s (%s)", event.event_id, event.type)
    return event.status
