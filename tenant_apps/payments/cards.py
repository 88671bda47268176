"""Cards on file: SetupIntents on the practice's connected account, confirmed in the browser by
Stripe.js Elements. Card details go from the browser straight to Stripe; what we store is read
back from Stripe's SetupIntent and PaymentMethod, never taken from the request."""

import logging

import stripe
from django.db import transaction
from stripe.params import SetupIntentCreateParams

from shared_apps.payments.selectors import ConnectionStatus, connection_status
from shared_apps.payments.stripe_api import connected_options, platform_client
from tenant_apps.accounts.models import User
from tenant_apps.audit.services import record_event
from tenant_apps.clients.models import Client
from tenant_apps.payments.models import SavedCard, StripeCustomer
from tenants.schemas import connection, current_practice

logger = logging.getLogger(__name__)


class CardError(Exception):
    """A card could not be added or changed; the message is fit to show the client."""


def _ready() -> ConnectionStatus:
    status = connection_status(current_practice())
    if not status.cards_available:
        raise CardError("This practice does not accept cards yet.")
    return status


def _locked(client: Client) -> Client:
    return Client.objects.select_for_update().get(pk=client.pk)


def _customer(client: Client, account_id: str) -> StripeCustomer:
    """The client's Customer on `account_id`, created there on first use. The client row is
    locked, so two tabs adding a card at once create one Customer."""
    with transaction.atomic():
        _locked(client)
        existing = StripeCustomer.objects.filter(client=client, account_id=account_id).first()
        if existing is not None:
            return existing
        customer = platform_client().v1.customers.create(
            # Ids only: no name or email of the client goes to Stripe from here.
            params={"metadata": {"client_id": str(client.pk)}},
            options={
                **connected_options(account_id),
                "idempotency_key": f"customer-{connection.schema_name}-{client.pk}",
            },
        )
        return StripeCustomer.objects.create(
            client=client, account_id=account_id, customer_id=customer.id
        )


def begin_card_setup(client: Client, *, actor: User) -> str:
    """Create a SetupIntent for `client` and return its client secret for Stripe.js."""
    status = _ready()
    customer = _customer(client, status.account_id)
    # No payment method types: stripe 16's API version renamed `payment_method_types`
    # (to `allowed_payment_method_types`, which localstripe does not know). A non-card
    # method is refused in `complete_card_setup`.
    params: SetupIntentCreateParams = {
        "customer": customer.customer_id,
        "usage": "off_session",
        "metadata": {"client_id": str(client.pk)},
    }
    intent = platform_client().v1.setup_intents.create(
        params=params,
        options=connected_options(status.account_id),
    )
    record_event(actor, "payments.card_setup_started", target=client, setup_intent=intent.id)
    return str(intent.client_secret)


def complete_card_setup(client: Client, *, actor: User | None, setup_intent_id: str) -> SavedCard:
    """Store the card a confirmed SetupIntent saved. Idempotent: the same SetupIntent twice
    gives the same card. A SetupIntent of another client's Customer is refused."""
    status = _ready()
    if not setup_intent_id.startswith("seti_") or len(setup_intent_id) > 255:
        raise CardError("That card setup was not recognised.")
    customer = StripeCustomer.objects.filter(client=client, account_id=status.account_id).first()
    if customer is None:
        raise CardError("That card setup was not recognised.")
    existing = SavedCard.objects.filter(client=client, setup_intent_id=setup_intent_id).first()
    if existing is not None:
        return existing

    client_api = platform_client()
    options = connected_options(status.account_id)
    try:
        intent = client_api.v1.setup_intents.retrieve(setup_intent_id, options=options)
    except stripe.InvalidRequestError as error:
        raise CardError("That card setup was not recognised.") from error
    if intent.customer != customer.customer_id:
        logger.warning("SetupIntent %s does not belong to client %s", intent.id, client.pk)
        raise CardError("That card setup was not recognised.")
    if intent.status != "succeeded" or not intent.payment_method:
        raise CardError("The card was not confirmed. Please try again.")
    method_id = (
        intent.payment_method
        if isinstance(intent.payment_method, str)
        else intent.payment_method.id
    )
    method = client_api.v1.payment_methods.retrieve(method_id, options=options)
    card = method.card
    if card is None:
        raise CardError("Only cards can be saved here.")

    with transaction.atomic():
        _locked(client)
        saved = SavedCard.objects.filter(payment_method_id=method.id).first()
        if saved is not None:
            return saved
        has_default = SavedCard.objects.filter(
            client=client, account_id=status.account_id, is_default=True
        ).exists()
        saved = SavedCard.objects.create(
            client=client,
            account_id=status.account_id,
            payment_method_id=method.id,
            setup_intent_id=intent.id,
            brand=str(card.brand or "card"),
            last4=str(card.last4),
            exp_month=int(card.exp_month),
            exp_year=int(card.exp_year),
            is_default=not has_default,
        )
        record_event(actor, "payments.card_added", target=saved, client=client.pk)
    return saved


def make_default(card: SavedCard, *, actor: User) -> SavedCard:
    with transaction.atomic():
        _locked(card.client)
        SavedCard.objects.filter(client=card.client, is_default=True).exclude(pk=card.pk).update(
            is_default=False
        )
        card.is_default = True
        card.save(update_fields=["is_default"])
        record_event(actor, "payments.card_made_default", target=card, client=card.client_id)
    return card


def remove_card(card: SavedCard, *, actor: User) -> None:
    """Detach the card on Stripe, then forget it; the newest remaining card becomes default."""
    try:
        platform_client().v1.payment_methods.detach(
            card.payment_method_id, options=connected_options(card.account_id)
        )
    except stripe.InvalidRequestError:
        # Already detached (or gone) on Stripe's side: forgetting it is still right.
        logger.info("Payment method of card %s was already detached", card.pk)

    forget_card(card, actor=actor)


def forget_card(card: SavedCard, *, actor: User | None) -> None:
    """Delete our row of a card already detached on Stripe; the newest remaining card of the
    client becomes the default if this one was."""
    with transaction.atomic():
        _locked(card.client)
        was_default = card.is_default
        card_pk = card.pk
        card.delete()
        if was_default:
            successor = (
                SavedCard.objects.filter(client=card.client, account_id=card.account_id)
                .order_by("-created_at", "-id")
                .first()
            )
            if successor is not None:
                successor.is_default = True
                successor.save(update_fields=["is_default"])
        record_event(actor, "payments.card_removed", client=card.client_id, card=card_pk)
