"""Card payments: PaymentIntents on the practice's connected account, recorded once.

A payment is a `PaymentAttempt` first. Its amount and invoices are computed here from the
ledger (the request says only *what* to pay: the whole balance, some open invoices, or a
partial amount no higher than the balance). The client's row is locked while an attempt is
chosen and its PaymentIntent created, so two submits one after the other find the same open
attempt, and the create call carries an idempotency key derived from the attempt, so a retried
call is the same PaymentIntent at Stripe.

Completion is `settle`: whichever comes first of the browser posting back, the return URL or
the `payment_intent.succeeded` webhook reads the PaymentIntent back from Stripe and, if it
succeeded, records the payment through billing's `record_payment`. The PaymentIntent id is
unique on `Payment`, and the attempt is locked while it is settled, so a second completion is
a no-op.
"""

import logging
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import stripe
from django.db import transaction
from django.utils import timezone

from shared_apps.payments.selectors import ConnectionStatus, connection_status
from shared_apps.payments.stripe_api import connected_options, platform_client
from tenant_apps.accounts.models import User
from tenant_apps.audit.services import record_event
from tenant_apps.billing import selectors as billing_selectors
from tenant_apps.billing.models import Invoice, Payment
from tenant_apps.billing.services import record_payment
from tenant_apps.clients.models import Client
from tenant_apps.mail.services import queue_email
from tenant_apps.payments.cards import _customer
from tenant_apps.payments.models import PaymentAttempt, SavedCard
from tenants.schemas import current_practice

logger = logging.getLogger(__name__)

PAYMENT_RECEIVED = "payment_received"

UNREACHABLE = (
    "We could not reach our card processor, so nothing was charged. Please try again in a "
    "few minutes."
)
DECLINED = "The card was declined, so nothing was charged. Please try another card."
# Stripe's decline codes that deserve their own words; anything else is a plain decline.
DECLINE_MESSAGES = {
    "expired_card": "The card has expired, so nothing was charged. Please use another card.",
    "incorrect_cvc": "The card's security code was not accepted, so nothing was charged.",
    "insufficient_funds": "The card was declined for insufficient funds; nothing was charged.",
    "authentication_required": (
        "The card's bank asks for this payment to be confirmed by the card holder; nothing "
        "was charged."
    ),
    "payment_intent_authentication_failure": (
        "The bank could not confirm the payment, so nothing was charged. Please try again or "
        "use another card."
    ),
}
NEEDS_CLIENT = (
    "The card's bank wants the client to confirm this payment themselves, so nothing was "
    "charged. Ask the client to pay in the portal."
)


class PaymentError(Exception):
    """A payment could not be started; the message is fit to show the person paying."""


@dataclass(frozen=True)
class Selection:
    scope: str
    amount: int
    invoices: tuple[Invoice, ...]


def _ready() -> ConnectionStatus:
    status = connection_status(current_practice())
    if not status.cards_available:
        raise PaymentError("This practice does not accept card payments yet.")
    return status


def _pk(value: object) -> int | None:
    text = str(value)
    return int(text) if text.isdigit() else None


def price(
    client: Client, *, scope: str, invoice_ids: Iterable[object] = (), amount: int | None = None
) -> Selection:
    """What a payment of `scope` is for, from the ledger. `amount` is read for a partial
    payment only, and must not exceed the balance; `invoice_ids` only for chosen invoices."""
    open_invoices = [
        invoice
        for invoice in billing_selectors.open_invoices(client)
        if invoice.balance_due > 0  # type: ignore[attr-defined]
    ]
    balance = billing_selectors.client_balance(client)

    if scope == PaymentAttempt.Scope.INVOICES:
        wanted = {_pk(value) for value in invoice_ids}
        chosen = tuple(invoice for invoice in open_invoices if invoice.pk in wanted)
        if not chosen or len(chosen) != len(wanted):
            raise PaymentError("Choose one or more of your open invoices.")
        total = sum(invoice.balance_due for invoice in chosen)  # type: ignore[attr-defined]
        return Selection(scope, total, chosen)

    if balance <= 0:
        raise PaymentError("Nothing is due on your account.")
    if scope == PaymentAttempt.Scope.BALANCE:
        amount = balance
    elif scope == PaymentAttempt.Scope.PARTIAL:
        if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
            raise PaymentError("Enter an amount more than zero.")
        if amount > balance:
            raise PaymentError("That is more than your balance.")
    else:
        raise PaymentError("Choose what to pay.")
    return Selection(scope, amount, tuple(_oldest_first(open_invoices, amount)))


def _oldest_first(invoices: Iterable[Invoice], amount: int) -> list[Invoice]:
    covered: list[Invoice] = []
    for invoice in invoices:
        if amount <= 0:
            break
        covered.append(invoice)
        amount -= invoice.balance_due  # type: ignore[attr-defined]
    return covered


def start_payment(
    client: Client,
    *,
    actor: User,
    scope: str,
    invoice_ids: Iterable[object] = (),
    amount: int | None = None,
    card: SavedCard | None = None,
    off_session: bool = False,
    form_token: str = "",
) -> PaymentAttempt:
    """Start (or find again) a card payment and its PaymentIntent.

    With a saved card the PaymentIntent is confirmed at once: the attempt comes back
    succeeded, needing the bank's confirmation (3-D Secure, in the browser) or failed with a
    message. Without one it comes back started, for Stripe.js to confirm with a new card.
    Raises PaymentError for a request that cannot be paid, and stripe.StripeError only from
    settling an earlier attempt (nothing is changed then).
    """
    status = _ready()
    if card is not None and (card.client_id != client.pk or card.account_id != status.account_id):
        raise PaymentError("That card is not on file.")
    if off_session and (card is None or card.charges_authorized_at is None):
        raise PaymentError("The client has not authorized charges to that card.")
    form_token = form_token[:64]

    with transaction.atomic():
        Client.objects.select_for_update().get(pk=client.pk)
        if form_token:
            again = PaymentAttempt.objects.filter(client=client, form_token=form_token).first()
            if again is not None:
                return again
        selection = price(client, scope=scope, invoice_ids=invoice_ids, amount=amount)
        current = PaymentAttempt.objects.filter(
            client=client, status__in=PaymentAttempt.OPEN_STATUSES
        ).first()
        if current is not None:
            if _same(current, selection, card=card, off_session=off_session):
                return current
            _settle_or_cancel(current)
            selection = price(client, scope=scope, invoice_ids=invoice_ids, amount=amount)

        customer = _customer(client, status.account_id)
        attempt = PaymentAttempt.objects.create(
            client=client,
            scope=selection.scope,
            amount=selection.amount,
            currency=current_practice().currency,
            account_id=status.account_id,
            saved_card=card,
            off_session=off_session,
            started_by=actor,
            form_token=form_token,
        )
        attempt.invoices.set(selection.invoices)
        record_event(actor, "payments.payment_started", target=attempt, client=client.pk,
                     amount=attempt.amount, off_session=off_session)  # fmt: skip
        _create_intent(attempt, customer_id=customer.customer_id, card=card)
    return attempt


def _same(
    attempt: PaymentAttempt, selection: Selection, *, card: SavedCard | None, off_session: bool
) -> bool:
    return (
        attempt.scope == selection.scope
        and attempt.amount == selection.amount
        and attempt.saved_card_id == (card.pk if card else None)
        and attempt.off_session == off_session
        and {invoice.pk for invoice in attempt.invoices.all()}
        == {invoice.pk for invoice in selection.invoices}
    )


def _create_intent(attempt: PaymentAttempt, *, customer_id: str, card: SavedCard | None) -> None:
    """Create the attempt's PaymentIntent (confirming it with a saved card). A failure is
    kept on the attempt, which is committed either way: if Stripe charged although we never
    heard back, the webhook finds the attempt by the key in the PaymentIntent's metadata."""
    params: dict[str, Any] = {
        "amount": attempt.amount,
        "currency": attempt.currency.lower(),
        "customer": customer_id,
        # Ids only: nothing about the client or the services goes to Stripe.
        "metadata": {"attempt": str(attempt.key), "client_id": str(attempt.client_id)},
    }
    if card is not None:
        params.update(payment_method=card.payment_method_id, confirm=True)
        if attempt.off_session:
            params["off_session"] = True
    options: stripe.RequestOptions = {
        **connected_options(attempt.account_id),
        "idempotency_key": attempt.idempotency_key,
    }
    try:
        intent = platform_client().v1.payment_intents.create(
            params=params,  # type: ignore[arg-type]
            options=options,
        )
    except stripe.CardError as error:
        code = getattr(error, "code", None) or ""
        decline = (error.error.decline_code if error.error else None) or ""
        found = error.error.payment_intent if error.error else None
        if found is not None and found.id:
            attempt.payment_intent_id = found.id
        logger.info("Payment attempt %s was declined (%s %s)", attempt.pk, code, decline)
        _fail(attempt, DECLINE_MESSAGES.get(decline) or DECLINE_MESSAGES.get(code) or DECLINED)
        return
    except stripe.StripeError:
        logger.warning("Could not create the PaymentIntent of attempt %s", attempt.pk)
        _fail(attempt, UNREACHABLE)
        return
    attempt.payment_intent_id = intent.id
    attempt.save(update_fields=["payment_intent_id"])
    _apply_intent(attempt, intent)


def _fail(attempt: PaymentAttempt, message: str) -> None:
    attempt.status = PaymentAttempt.Status.FAILED
    attempt.failure_message = message
    attempt.completed_at = timezone.now()
    attempt.save(update_fields=["status", "failure_message", "completed_at", "payment_intent_id"])
    record_event(None, "payments.payment_failed", target=attempt, client=attempt.client_id)


def _settle_or_cancel(attempt: PaymentAttempt) -> None:
    """Make room for a new attempt: record the open one if it was paid meanwhile, cancel it
    at Stripe if it was not. Called with the client locked."""
    if not attempt.payment_intent_id:
        attempt.status = PaymentAttempt.Status.CANCELED
        attempt.save(update_fields=["status"])
        return
    api = platform_client()
    options = connected_options(attempt.account_id)
    intent = api.v1.payment_intents.retrieve(attempt.payment_intent_id, options=options)
    _apply_intent(attempt, intent)
    if attempt.status == PaymentAttempt.Status.PROCESSING:
        raise PaymentError("An earlier payment is still being processed. Please try later.")
    if attempt.is_open:
        api.v1.payment_intents.cancel(attempt.payment_intent_id, options=options)
        attempt.status = PaymentAttempt.Status.CANCELED
        attempt.completed_at = timezone.now()
        attempt.save(update_fields=["status", "completed_at"])


def settle(attempt: PaymentAttempt) -> PaymentAttempt:
    """Read the attempt's PaymentIntent back from Stripe and bring the attempt (and the
    ledger) up to date. Safe to call any number of times, from any process."""
    if not attempt.payment_intent_id:
        return attempt
    intent = platform_client().v1.payment_intents.retrieve(
        attempt.payment_intent_id, options=connected_options(attempt.account_id)
    )
    with transaction.atomic():
        Client.objects.select_for_update().get(pk=attempt.client_id)
        locked = PaymentAttempt.objects.select_for_update().get(pk=attempt.pk)
        _apply_intent(locked, intent)
    return locked


def settle_intent(payment_intent_id: str, account_id: str) -> str:
    """The webhook's way in: settle whichever attempt the PaymentIntent belongs to. A
    PaymentIntent created while our answer was lost is matched by its metadata key."""
    attempt = PaymentAttempt.objects.filter(payment_intent_id=payment_intent_id).first()
    if attempt is None:
        intent = platform_client().v1.payment_intents.retrieve(
            payment_intent_id, options=connected_options(account_id)
        )
        key = str((intent.to_dict().get("metadata") or {}).get("attempt") or "")
        attempt = PaymentAttempt.objects.filter(key=key).first() if _is_uuid(key) else None
        if attempt is None or attempt.account_id != account_id:
            return "no_attempt"
        with transaction.atomic():
            Client.objects.select_for_update().get(pk=attempt.client_id)
            locked = PaymentAttempt.objects.select_for_update().get(pk=attempt.pk)
            if not locked.payment_intent_id:
                locked.payment_intent_id = intent.id
                locked.save(update_fields=["payment_intent_id"])
            _apply_intent(locked, intent)
        return locked.status
    if attempt.account_id != account_id:
        logger.warning("PaymentIntent %s arrived for another account", payment_intent_id)
        return "wrong_account"
    return settle(attempt).status


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def _apply_intent(attempt: PaymentAttempt, intent: Any) -> None:
    """Move the attempt to what Stripe says, never backwards: a settled attempt stays settled,
    and only a succeeded PaymentIntent reaches the ledger."""
    if attempt.status == PaymentAttempt.Status.SUCCEEDED:
        return
    if intent.status == "succeeded":
        _record(attempt, intent)
        return
    if not attempt.is_open:
        return

    error = intent.to_dict().get("last_payment_error") or {}
    if intent.status == "requires_action" and attempt.off_session:
        # Off-session, nobody is there to authenticate: give up rather than leave it open.
        platform_client().v1.payment_intents.cancel(
            intent.id, options=connected_options(attempt.account_id)
        )
        _fail(attempt, NEEDS_CLIENT)
        return
    if intent.status == "requires_action":
        new_status = PaymentAttempt.Status.REQUIRES_ACTION
    elif intent.status == "processing":
        new_status = PaymentAttempt.Status.PROCESSING
    elif intent.status == "canceled":
        new_status = PaymentAttempt.Status.CANCELED
    elif error:
        code = str(error.get("decline_code") or error.get("code") or "")
        _fail(attempt, DECLINE_MESSAGES.get(code, DECLINED))
        return
    else:
        new_status = PaymentAttempt.Status.STARTED
    if new_status != attempt.status:
        attempt.status = new_status
        if new_status == PaymentAttempt.Status.CANCELED:
            attempt.completed_at = timezone.now()
        attempt.save(update_fields=["status", "completed_at"])


def _record(attempt: PaymentAttempt, intent: Any) -> None:
    """Record a succeeded PaymentIntent as a payment, applied oldest invoice first to the
    attempt's invoices, each no further than what is due on it now; the rest is credit."""
    received = int(intent.to_dict().get("amount_received") or intent.amount)
    if received != attempt.amount or str(intent.currency).upper() != attempt.currency:
        logger.warning("PaymentIntent %s amount differs from attempt %s", intent.id, attempt.pk)
    payment = Payment.objects.filter(stripe_payment_intent_id=intent.id).first()
    if payment is None:
        remaining = received
        applications: list[tuple[Invoice, int]] = []
        invoices = billing_selectors.with_balances(attempt.invoices.all()).order_by(
            "issued_at", "id"
        )
        for invoice in invoices:
            part = min(remaining, invoice.balance_due)  # type: ignore[attr-defined]
            if invoice.is_open and part > 0:
                applications.append((invoice, part))
                remaining -= part
        payment = record_payment(
            attempt.client,
            actor=attempt.started_by,
            method=Payment.Method.CARD,
            amount=received,
            received_at=datetime.fromtimestamp(int(intent.created), tz=UTC),
            reference=f"Card {attempt.saved_card}" if attempt.saved_card else "Card",
            applications=applications,
            stripe_payment_intent_id=intent.id,
        )
    attempt.payment = payment
    attempt.status = PaymentAttempt.Status.SUCCEEDED
    attempt.failure_message = ""
    attempt.completed_at = timezone.now()
    attempt.save(update_fields=["payment", "status", "failure_message", "completed_at"])
    record_event(None, "payments.payment_succeeded", target=attempt, payment=payment.pk)
    user = attempt.client.user
    if user is not None and user.is_active:
        queue_email(
            kind=PAYMENT_RECEIVED,
            key=f"{PAYMENT_RECEIVED}:{attempt.pk}",
            recipient=user,
            object_id=attempt.pk,
        )


def authorize_charges(card: SavedCard, *, actor: User) -> SavedCard:
    """Record that the client lets the practice charge `card` for what they owe."""
    if card.charges_authorized_at is None:
        card.charges_authorized_at = timezone.now()
        card.save(update_fields=["charges_authorized_at"])
        record_event(actor, "payments.card_charges_authorized", target=card, client=card.client_id)
    return card


def withdraw_authorization(card: SavedCard, *, actor: User) -> SavedCard:
    if card.charges_authorized_at is not None:
        card.charges_authorized_at = None
        card.save(update_fields=["charges_authorized_at"])
        record_event(actor, "payments.card_charges_withdrawn", target=card, client=card.client_id)
    return card


def client_secret_for(attempt: PaymentAttempt) -> str:
    """The PaymentIntent's client secret, for Stripe.js to confirm it. Read from Stripe each
    time rather than stored: it lets whoever holds it confirm the payment."""
    intent = platform_client().v1.payment_intents.retrieve(
        str(attempt.payment_intent_id), options=connected_options(attempt.account_id)
    )
    return str(intent.client_secret)
