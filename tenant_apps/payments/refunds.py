"""Refunds of card payments, on the practice's connected Stripe account.

A staff refund is made in three steps. (1) Our `Refund` row is written first, under the
client's lock, after checking the amount against what is left of the payment; the form's
one-time token (`request_key`) is unique, so the same form submitted twice finds the same row.
(2) The Stripe refund is created with an idempotency key built from that row's id, while the
client and the row are locked, so two submits that race make one call and a retry after a
network failure is the same refund at Stripe. (3) What Stripe answers settles the row and,
when the refund succeeded (or is pending), puts it on the ledger once
(billing.services.record_refund_entry).

Refunds made elsewhere (the Stripe dashboard) are found by `reconcile_charge_refunds`, which
the `charge.refunded` webhook calls: it reads every refund of the charge back from Stripe and
records the ones the ledger does not have yet.
"""

import logging
from datetime import UTC, datetime
from typing import Any

import stripe
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from stripe.params import RefundListParams

from shared_apps.payments.selectors import connection_status
from shared_apps.payments.stripe_api import connected_options, platform_client
from tenant_apps.accounts.models import User
from tenant_apps.audit.services import record_event
from tenant_apps.billing import selectors as billing_selectors
from tenant_apps.billing.models import LedgerEntry, Payment, Refund
from tenant_apps.billing.services import record_refund_entry
from tenant_apps.clients.models import Client
from tenants.schemas import connection, current_practice

logger = logging.getLogger(__name__)

# Stripe refund statuses we mirror; "requires_action" (some non-card methods) stays pending.
_STATUS_BY_STRIPE = {
    "succeeded": Refund.Status.SUCCEEDED,
    "pending": Refund.Status.PENDING,
    "requires_action": Refund.Status.PENDING,
    "failed": Refund.Status.FAILED,
    "canceled": Refund.Status.CANCELED,
}


class RefundError(Exception):
    """A refund could not be made; the message is fit to show staff."""


def idempotency_key(refund: Refund) -> str:
    return f"refund-{connection.schema_name}-{refund.pk}"


def _account_id() -> str:
    status = connection_status(current_practice())
    if not status.connected:
        raise RefundError("Connect the practice's Stripe account to refund card payments.")
    return status.account_id


def refund_payment(
    payment: Payment, *, actor: User, amount: int, reason: str, request_key: str
) -> Refund:
    """Refund `amount` of a card payment to the client's card. Safe to call twice with the
    same `request_key`: the second call returns the first refund (finishing it if Stripe
    could not be reached the first time)."""
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise TypeError("amount must be integer minor units")
    if not reason.strip():
        raise ValidationError("Give a reason for the refund.")
    if not request_key or len(request_key) > 64:
        raise ValidationError("The refund form has expired. Open it again.")
    if payment.method != Payment.Method.CARD or not payment.stripe_payment_intent_id:
        raise ValidationError("Only card payments can be refunded to a card.")
    account_id = _account_id()

    refund = _requested_refund(payment, actor=actor, amount=amount, reason=reason.strip(),
                               request_key=request_key)  # fmt: skip
    if refund.status != Refund.Status.REQUESTED:
        return refund
    return _send_to_stripe(refund, account_id=account_id, actor=actor)


def _requested_refund(
    payment: Payment, *, actor: User, amount: int, reason: str, request_key: str
) -> Refund:
    try:
        with transaction.atomic():
            # The client's lock first, as every ledger write takes it: a submit racing the
            # one that wrote the row waits here, then finds that row below instead of
            # inserting a duplicate (which would wait on, and deadlock with, its settling).
            Client.objects.select_for_update().get(pk=payment.client_id)
            existing = Refund.objects.filter(request_key=request_key).first()
            if existing is not None:
                if existing.payment_id != payment.pk:
                    raise ValidationError("The refund form has expired. Open it again.")
                return existing
            payment = Payment.objects.get(pk=payment.pk)
            if amount <= 0:
                raise ValidationError("A refund must be more than zero.")
            left = billing_selectors.refundable_amount(payment)
            if amount > left:
                raise ValidationError(
                    "That is more than is left to refund of this payment."
                    if left
                    else "This payment has already been refunded in full."
                )
            refund = Refund.objects.create(
                payment=payment,
                amount=amount,
                currency=payment.currency,
                reason=reason,
                request_key=request_key,
                requested_by=actor,
            )
            record_event(
                actor, "payments.refund_requested", target=refund, payment=payment.pk, amount=amount
            )
    except IntegrityError:
        # Only if a row with this key appeared without the client's lock (never in this
        # module); the row is there either way.
        return Refund.objects.get(request_key=request_key)
    return refund


def _send_to_stripe(refund: Refund, *, account_id: str, actor: User | None) -> Refund:
    with transaction.atomic():
        # Lock order: the client, then the refund (as the charge.refunded webhook takes them).
        # Both are held across the Stripe call, so a racing submit of the same form waits here
        # and then finds the refund settled instead of calling Stripe a second time; other
        # ledger writes for this one client wait for the call too.
        Client.objects.select_for_update().get(pk=refund.payment.client_id)
        refund = Refund.objects.select_for_update().select_related("payment").get(pk=refund.pk)
        if refund.status != Refund.Status.REQUESTED:
            return refund
        try:
            stripe_refund = platform_client().v1.refunds.create(
                params={
                    "payment_intent": refund.payment.stripe_payment_intent_id,
                    "amount": refund.amount,
                    "metadata": {"refund_id": str(refund.pk)},
                },
                options={
                    **connected_options(account_id),
                    "idempotency_key": idempotency_key(refund),
                },
            )
        except (stripe.APIConnectionError, stripe.RateLimitError) as error:
            logger.warning("Stripe unreachable for refund %s: %s", refund.pk, type(error).__name__)
            raise RefundError(
                "Stripe could not be reached, so nothing was refunded yet. Try again in a moment."
            ) from error
        except stripe.StripeError as error:
            logger.warning("Stripe refused refund %s: %s", refund.pk, error.code or "error")
            refund.status = Refund.Status.FAILED
            refund.failure_note = (error.user_message or "Stripe refused the refund.")[:200]
            refund.save(update_fields=["status", "failure_note"])
            record_event(actor, "payments.refund_failed", target=refund)
            return refund
        _settle(refund, stripe_refund.to_dict(), actor=actor, at=timezone.now())
    return refund


def _settle(
    refund: Refund, data: dict[str, Any], *, actor: User | None, at: datetime | None = None
) -> None:
    """Mirror a Stripe Refund onto our row; put it on the ledger when the money moved."""
    status = _STATUS_BY_STRIPE.get(str(data.get("status") or ""), Refund.Status.PENDING)
    fields = []
    if refund.stripe_refund_id != data["id"]:
        refund.stripe_refund_id = str(data["id"])
        fields.append("stripe_refund_id")
    if refund.status != status:
        refund.status = status
        fields.append("status")
    if status in (Refund.Status.SUCCEEDED, Refund.Status.PENDING) and refund.refunded_at is None:
        # Our own refunds take the moment Stripe answered us; one found later (made in the
        # dashboard) takes Stripe's creation time, so it lands in the right statement period.
        created = data.get("created")
        if at is None:
            at = datetime.fromtimestamp(int(created), tz=UTC) if created else timezone.now()
        # Stripe's times are whole seconds: never before the payment it gives back.
        refund.refunded_at = max(at, refund.payment.received_at)
        fields.append("refunded_at")
    if fields:
        refund.save(update_fields=fields)
    if refund.status in (Refund.Status.SUCCEEDED, Refund.Status.PENDING):
        assert refund.refunded_at is not None
        record_refund_entry(refund, actor=actor, at=refund.refunded_at)
    elif LedgerEntry.objects.filter(refund=refund).exists():
        # TODO(#7): a refund that fails after it reached the ledger (rare for cards) needs a
        # reversing entry; until then it is logged for staff to correct by hand.
        logger.error("Refund %s failed at Stripe after it was recorded", refund.pk)


def reconcile_charge_refunds(charge_id: str, account_id: str) -> str:
    """Record every refund of the charge that the ledger lacks, exactly once, whatever order
    and however often the events come. Returns a note for the webhook event row."""
    api = platform_client()
    options = connected_options(account_id)
    charge = api.v1.charges.retrieve(charge_id, options=options)
    intent_id = charge.payment_intent
    if intent_id is not None and not isinstance(intent_id, str):
        intent_id = intent_id.id
    payment = (
        Payment.objects.filter(stripe_payment_intent_id=intent_id).first() if intent_id else None
    )
    if payment is None:
        # TODO(#7): a charge.refunded that overtakes the recording of its payment is noted
        # here; `reconcile_payment_refunds` catches up once the payment path calls it.
        logger.info("Charge %s has no recorded payment; refunds not recorded", charge_id)
        return "no_payment"
    return _reconcile(payment, account_id, {"charge": charge_id})


def reconcile_payment_refunds(payment: Payment, account_id: str) -> str:
    """The same, for every refund of a recorded card payment (by its PaymentIntent)."""
    return _reconcile(payment, account_id, {"payment_intent": payment.stripe_payment_intent_id})


def _reconcile(payment: Payment, account_id: str, params: RefundListParams) -> str:
    api = platform_client()
    options = connected_options(account_id)
    recorded = 0
    listing = api.v1.refunds.list(params=params, options=options)
    for stripe_refund in listing.auto_paging_iter():
        data = stripe_refund.to_dict()
        with transaction.atomic():
            Client.objects.select_for_update().get(pk=payment.client_id)
            refund = _refund_for(payment, data)
            if refund is None:
                continue
            had_entry = LedgerEntry.objects.filter(refund=refund).exists()
            _settle(refund, data, actor=None)
            recorded += int(not had_entry and LedgerEntry.objects.filter(refund=refund).exists())
    return f"refunds_recorded:{recorded}"


def _refund_for(payment: Payment, data: dict[str, Any]) -> Refund | None:
    """Our row for a Stripe refund: by its id, else by the id we put in its metadata (our
    call reached Stripe but its answer never reached us), else a new row for a refund made
    outside the app. Called under the client's lock."""
    stripe_id = str(data["id"])
    found = Refund.objects.filter(stripe_refund_id=stripe_id).first()
    if found is not None:
        return found
    ours = str((data.get("metadata") or {}).get("refund_id") or "")
    if ours.isdigit():
        found = (
            Refund.objects.select_for_update()
            .filter(pk=int(ours), payment=payment, stripe_refund_id="")
            .first()
        )
        if found is not None:
            return found
    amount = int(data.get("amount") or 0)
    if amount <= 0:
        return None
    if str(data.get("status")) in ("failed", "canceled"):
        return None
    refund = Refund.objects.create(
        payment=payment,
        amount=amount,
        currency=payment.currency,
        reason="Refunded in Stripe",
        stripe_refund_id=stripe_id,
    )
    record_event(None, "payments.refund_found_at_stripe", target=refund, payment=payment.pk)
    logger.info("Recorded refund %s made outside the app", refund.pk)
    return refund
