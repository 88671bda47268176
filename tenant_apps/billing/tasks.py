"""Billing tasks. `dispatch_monthly_statements` is run by Celery beat in the public schema and
fans out one task per active practice, in that practice's schema."""

import logging
import smtplib
from datetime import datetime

from django.utils import timezone

from config.celery import app
from tenant_apps.billing import runs
from tenant_apps.mail.tasks import deliver_email
from tenants.models import Practice

logger = logging.getLogger(__name__)


@app.task
def dispatch_monthly_statements(now_iso: str | None = None) -> int:
    """Ask every active practice whether its monthly statements are due. `now_iso` fixes the
    moment (for tests and catching up); beat passes nothing."""
    schemas = (
        Practice.objects.filter(status=Practice.Status.ACTIVE)
        .exclude(schema_name="public")
        .values_list("schema_name", flat=True)
    )
    count = 0
    for schema in schemas:
        monthly_statements_if_due.apply_async(
            kwargs={"now_iso": now_iso}, headers={"_schema_name": schema}
        )
        count += 1
    logger.info("Asked %s practices about monthly statements", count)
    return count


@app.task
def monthly_statements_if_due(now_iso: str | None = None) -> int | None:
    now = datetime.fromisoformat(now_iso) if now_iso else timezone.now()
    run = runs.run_if_due(now)
    return run.pk if run else None


@app.task
def run_statements(run_id: int) -> int:
    return runs.process_run(run_id).sent


@app.task
def deliver_document_emails(delivery_ids: list[int]) -> int:
    """Send a batch's emails in one task rather than one broker message each.

    Each goes through `mail.tasks.deliver_email` itself, run here in-process: the same row
    lock and the same check that it was not sent already, so a redelivered batch sends
    nothing twice. One the mail server refuses is handed to `deliver_email` as a task of its
    own, with its retries and backoff, and the batch goes on.
    """
    sent = 0
    for delivery_id in delivery_ids:
        try:
            sent += bool(deliver_email(delivery_id))
        except (smtplib.SMTPException, ConnectionError, TimeoutError):
            logger.warning("Email delivery %s failed in a batch; retrying it alone", delivery_id)
            deliver_email.apply_async(args=[delivery_id])
    logger.info("Sent %s of %s batched billing emails", sent, len(delivery_ids))
    return sent
