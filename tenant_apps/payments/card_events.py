"""Stripe webhook handlers for refunds, disputes and cards on file.

Each handler gets the id of the event's object and the connected account, runs in the
practice's schema inside the webhook task's transaction, reads the object back from Stripe
(never trusting the event body) and returns a short note for the event row. Each is
idempotent: the same event three times, or events in any order, leave the same state.
"""

import logging

from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse

from shared_apps.payments.handlers import handles
from shared_apps.payments.stripe_api import connected_options, platform_client
from tenant_apps.accounts.models import Role, User
from tenant_apps.audit.services import record_event
from tenant_apps.billing.models import Dispute, Payment
from tenant_apps.clients.models import Client
from tenant_apps.mail.models import EmailDelivery
from tenant_apps.mail.registry import email_kind
from tenant_apps.mail.services import queue_email
from tenant_apps.payments import cards, refunds
from tenant_apps.payments.models import SavedCard, StripeCustomer
from tenants.hosts import practice_url
from tenants.schemas import current_practice

logger = logging.getLogger(__name__)

DISPUTE_OPENED = "payment_dispute_opened"


@handles("charge.refunded", "charge.refund.updated")
def charge_refunded(object_id: str, account_id: str) -> str:
    if object_id.startswith("re_"):
        # charge.refund.updated carries the refund; its charge holds the whole story.
        refund = platform_client().v1.refunds.retrieve(
            object_id, options=connected_options(account_id)
        )
        charge = refund.charge
        object_id = charge if isinstance(charge, str) else charge.id if charge else ""
    if not object_id.startswith("ch_"):
        return "not_a_charge"
    return refunds.reconcile_charge_refunds(object_id, account_id)


@handles("charge.dispute.created", "charge.dispute.updated", "charge.dispute.closed")
def charge_dispute(object_id: str, account_id: str) -> str:
    """Record (or refresh) the dispute; when it is new, tell the practice's owners."""
    api = platform_client()
    options = connected_options(account_id)
    dispute = api.v1.disputes.retrieve(object_id, options=options).to_dict()
    charge_id = dispute.get("charge") or ""
    if isinstance(charge_id, dict):
        charge_id = charge_id.get("id") or ""
    intent_id = dispute.get("payment_intent") or ""
    if isinstance(intent_id, dict):
        intent_id = intent_id.get("id") or ""
    if not intent_id and charge_id:
        intent_id = api.v1.charges.retrieve(charge_id, options=options).payment_intent or ""
        intent_id = intent_id if isinstance(intent_id, str) else intent_id.id
    payment = (
        Payment.objects.filter(stripe_payment_intent_id=intent_id).first() if intent_id else None
    )

    row, created = Dispute.objects.get_or_create(
        stripe_dispute_id=str(dispute["id"]),
        defaults={
            "payment": payment,
            "stripe_charge_id": str(charge_id),
            "amount": int(dispute.get("amount") or 0),
            "currency": payment.currency if payment else str(dispute.get("currency", "")).upper(),
            "status": str(dispute.get("status") or ""),
            "reason": str(dispute.get("reason") or "")[:64],
        },
    )
    if not created:
        row.status = str(dispute.get("status") or row.status)
        row.amount = int(dispute.get("amount") or row.amount)
        row.save(update_fields=["status", "amount", "updated_at"])
        return f"dispute_{row.status}"[:64]

    record_event(None, "payments.dispute_opened", target=row,
                 payment=payment.pk if payment else None)  # fmt: skip
    for owner in User.objects.filter(role=Role.OWNER, is_active=True).order_by("pk"):
        queue_email(
            kind=DISPUTE_OPENED, key=f"{DISPUTE_OPENED}:{row.pk}:{owner.pk}", recipient=owner,
            object_id=row.pk,
        )  # fmt: skip
    if payment is None:
        logger.warning("Dispute %s concerns a charge with no recorded payment", row.pk)
    return "dispute_recorded"


@email_kind(DISPUTE_OPENED)
def dispute_opened_email(delivery: EmailDelivery) -> EmailMultiAlternatives | None:
    """Says only that a card payment needs attention: no amount, no client, no reason."""
    dispute = Dispute.objects.filter(pk=delivery.object_id or 0).first()
    if dispute is None:
        return None
    practice = current_practice()
    path = (
        reverse("billing:payment", kwargs={"pk": dispute.payment_id})
        if dispute.payment_id
        else reverse("billing:home")
    )
    body = render_to_string(
        "emails/payment_dispute_opened.txt",
        {"practice": practice, "link": practice_url(practice, path)},
    )
    return EmailMultiAlternatives(
        subject=f"{practice.name}: a card payment needs your attention",
        body=body,
        to=[delivery.to_email],
    )


@handles("setup_intent.succeeded")
def setup_intent_succeeded(object_id: str, account_id: str) -> str:
    """Store the card the SetupIntent saved, as the portal's return page would have (the
    client may have closed the tab before it loaded). Idempotent through complete_card_setup."""
    intent = platform_client().v1.setup_intents.retrieve(
        object_id, options=connected_options(account_id)
    )
    customer_id = intent.customer if isinstance(intent.customer, str) else ""
    customer = StripeCustomer.objects.filter(customer_id=customer_id, account_id=account_id).first()
    if customer is None:
        return "unknown_customer"
    client = Client.objects.get(pk=customer.client_id)
    try:
        card = cards.complete_card_setup(client, actor=None, setup_intent_id=intent.id)
    except cards.CardError:
        return "card_not_stored"
    return f"card:{card.pk}"


@handles("payment_method.detached")
def payment_method_detached(object_id: str, account_id: str) -> str:
    """Forget a card detached on Stripe (from the dashboard, say). Read back first: a card
    still attached to its customer stays."""
    card = SavedCard.objects.filter(payment_method_id=object_id, account_id=account_id).first()
    if card is None:
        return "unknown_card"
    method = platform_client().v1.payment_methods.retrieve(
        object_id, options=connected_options(account_id)
    )
    if method.customer:
        return "still_attached"
    with transaction.atomic():
        Client.objects.select_for_update().get(pk=card.client_id)
        card = SavedCard.objects.filter(pk=card.pk).first()  # type: ignore[assignment]
        if card is None:
            return "unknown_card"
        cards.forget_card(card, actor=None)
    return "card_removed"
