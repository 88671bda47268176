"""Monthly statement runs: every client with activity or a balance gets the period's
statement, shared in their portal and announced by email, once.

A run is safe to repeat: statements are unique per (client, period) and each statement's email
has a unique delivery key, so a re-run reports what was already sent instead of sending it.
"""

import logging
from datetime import date, datetime
from zoneinfo import ZoneInfo

from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.utils import timezone

from config.celery import enqueue_on_commit
from tenant_apps.accounts.models import User
from tenant_apps.audit.services import record_event
from tenant_apps.billing import documents, selectors, statements
from tenant_apps.billing.models import BillingDocument, BillingProfile, BillingRun
from tenant_apps.billing.services import DOCUMENT_READY
from tenant_apps.clients.models import Client
from tenant_apps.mail.models import EmailDelivery
from tenants.schemas import current_practice

logger = logging.getLogger(__name__)

BATCH_SIZE = 500
NO_PORTAL = "The client has no portal account."
ALREADY_SENT = "Already sent."


def start_run(*, actor: User | None, start: date, end: date) -> BillingRun:
    """Queue a run of statements for the period; the worker does the work."""
    from tenant_apps.billing.tasks import run_statements

    run = BillingRun.objects.create(period_start=start, period_end=end, started_by=actor)
    record_event(actor, "billing.statement_run_started", target=run)
    enqueue_on_commit(run_statements, run.pk)
    return run


def run_if_due(now: datetime) -> BillingRun | None:
    """The automatic run of this practice for the previous month, if today (in the practice's
    zone) is on or after its statement day and the run has not happened yet."""
    # Read without creating: most practices never opened their billing profile.
    profile = BillingProfile.objects.filter(pk=1).first()
    if profile is None or not profile.monthly_statements_enabled:
        return None
    local = now.astimezone(ZoneInfo(current_practice().time_zone))
    if local.day < profile.statement_day:
        return None
    start, end = statements.previous_month(local.date())
    try:
        with transaction.atomic():
            run = BillingRun.objects.create(period_start=start, period_end=end, automatic=True)
    except IntegrityError:
        return None
    logger.info("Automatic statement run %s for %s", run.pk, start)
    return process_run(run.pk)


def process_run(run_id: int) -> BillingRun:
    with transaction.atomic():
        run = BillingRun.objects.select_for_update().get(pk=run_id)
        if run.status != BillingRun.Status.QUEUED:
            logger.info("Statement run %s is %s; nothing to do", run_id, run.status)
            return run
        run.status = BillingRun.Status.RUNNING
        run.save(update_fields=["status"])

    client_ids = list(Client.objects.order_by("pk").values_list("pk", flat=True))
    run.clients_total = len(client_ids)
    run.save(update_fields=["clients_total"])
    try:
        for offset in range(0, len(client_ids), BATCH_SIZE):
            _process_batch(run, client_ids[offset : offset + BATCH_SIZE])
    except Exception:
        logger.exception("Statement run %s failed", run_id)
        run.status = BillingRun.Status.FAILED
        run.finished_at = timezone.now()
        run.save(update_fields=["status", "finished_at"])
        raise
    run.status = BillingRun.Status.FINISHED
    run.finished_at = timezone.now()
    run.save(update_fields=["status", "finished_at"])
    logger.info(
        "Statement run %s finished: %s sent, %s skipped, %s failed",
        run.pk,
        run.sent,
        run.skipped,
        run.failed,
    )
    return run


def _process_batch(run: BillingRun, client_ids: list[int]) -> None:
    clients = list(Client.objects.filter(pk__in=client_ids).select_related("user"))
    try:
        with transaction.atomic():
            made = documents.create_monthly_statements(
                clients, start=run.period_start, end=run.period_end, actor=run.started_by
            )
    except Exception:
        logger.exception("Statement run %s: a batch of %s clients failed", run.pk, len(clients))
        run.total += len(clients)
        for client in clients:
            _report(run, client.pk, "failed", "The statement could not be made.")
        _save_progress(run, checked=len(clients))
        return

    to_send = [(client, made[client.pk][0]) for client in clients if made[client.pk][0]]
    run.total += len(to_send)
    with transaction.atomic():
        already = set(
            EmailDelivery.objects.filter(
                key__in=[_email_key(document) for _, document in to_send if document]
            ).values_list("key", flat=True)
        )
        recipients: list[tuple[User, BillingDocument]] = []
        for client, document in to_send:
            assert document is not None
            user = client.user
            if _email_key(document) in already:
                _report(run, client.pk, "skipped", ALREADY_SENT, document.pk)
            elif user is None or not user.is_active:
                _report(run, client.pk, "skipped", NO_PORTAL, document.pk)
            else:
                recipients.append((user, document))
                _report(run, client.pk, "sent", "", document.pk)
        shared = [document.pk for _, document in recipients]
        BillingDocument.objects.filter(pk__in=shared, shared_at__isnull=True).update(
            shared_at=timezone.now()
        )
        _queue_emails(recipients)
        if shared:
            record_event(run.started_by, "billing.statements_sent", target=run, documents=shared)
        _save_progress(run, checked=len(clients))
    keys = [selectors._summary_key(client.user_id) for client, _ in to_send if client.user_id]
    cache.delete_many(keys)
    transaction.on_commit(lambda: cache.delete_many(keys))


def _email_key(document: BillingDocument) -> str:
    return f"{DOCUMENT_READY}:{document.pk}"


def _queue_emails(recipients: list[tuple[User, BillingDocument]]) -> None:
    """`mail.services.queue_email` for a whole batch: the same rows (a unique key per
    document, so a second run finds them), written with one INSERT instead of one per client,
    and one task after commit that sends them all (see `tasks.deliver_document_emails`)
    instead of one broker message each. Delivery is idempotent, so a row that a concurrent
    run wrote first may safely be in both runs' tasks."""
    from tenant_apps.billing.tasks import deliver_document_emails

    rows = EmailDelivery.objects.bulk_create(
        [
            EmailDelivery(
                key=_email_key(document),
                kind=DOCUMENT_READY,
                recipient=user,
                to_email=user.email,
                object_id=document.pk,
            )
            for user, document in recipients
        ],
        ignore_conflicts=True,
    )
    ids = list(
        EmailDelivery.objects.filter(
            key__in=[row.key for row in rows], sent_at__isnull=True
        ).values_list("pk", flat=True)
    )
    if ids:
        enqueue_on_commit(deliver_document_emails, ids)


def _report(
    run: BillingRun, client_id: int, outcome: str, reason: str, document_id: int | None = None
) -> None:
    run.report.append(
        {"client": client_id, "document": document_id, "outcome": outcome, "reason": reason}
    )
    if outcome == "sent":
        run.sent += 1
    elif outcome == "skipped":
        run.skipped += 1
    else:
        run.failed += 1
    run.processed += 1


def _save_progress(run: BillingRun, *, checked: int) -> None:
    """Saves the report so far, with `checked` more clients looked at."""
    run.clients_checked += checked
    run.save(
        update_fields=[
            "clients_checked",
            "total",
            "processed",
            "sent",
            "skipped",
            "failed",
            "report",
        ]
    )
