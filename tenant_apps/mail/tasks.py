import logging
import smtplib

from django.conf import settings
from django.db import transaction
from django.urls import get_urlconf, set_urlconf
from django.utils import timezone

from config.celery import app
from tenant_apps.mail.models import EmailDelivery
from tenant_apps.mail.registry import build_message

logger = logging.getLogger(__name__)


@app.task(
    bind=True,
    autoretry_for=(smtplib.SMTPException, ConnectionError, TimeoutError),
    retry_backoff=True,
    max_retries=8,
)
def deliver_email(self: object, delivery_id: int) -> bool:
    """Send one recorded email unless it was already sent. Returns whether it sent.

    The row stays locked while the message goes out, so two deliveries of this task (a retry
    racing a redelivery) cannot both send: the second waits, then finds `sent_at` set.
    """
    with transaction.atomic():
        delivery = EmailDelivery.objects.select_for_update().filter(pk=delivery_id).first()
        if delivery is None:
            logger.warning("Email delivery %s does not exist in this schema", delivery_id)
            return False
        if delivery.sent_at is not None or delivery.skipped_at is not None:
            logger.info("Email delivery %s was already sent or skipped; nothing to do", delivery_id)
            return False

        delivery.attempts += 1
        # Every link in an email is on the practice's host. A task run eagerly from a request
        # on the platform host (the operator provisioning a practice) would otherwise resolve
        # URL names with the platform's URL conf, which has none of the practice's.
        outer_urlconf = get_urlconf()
        set_urlconf(settings.ROOT_URLCONF)
        try:
            message = build_message(delivery)
        finally:
            set_urlconf(outer_urlconf)
        if message is None:
            delivery.skipped_at = timezone.now()
            delivery.save(update_fields=["attempts", "skipped_at"])
            logger.info("Email delivery %s had nothing left to send", delivery_id)
            return False
        # One Message-ID per delivery: if a crash makes us send again, receiving systems that
        # deduplicate can tell the copies are one message.
        message.extra_headers["Message-ID"] = delivery.message_id()
        message.send()
        delivery.sent_at = timezone.now()
        delivery.save(update_fields=["attempts", "sent_at"])

    logger.info("Sent email delivery %s (%s)", delivery_id, delivery.kind)
    return True
