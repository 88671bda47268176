"""Reads of cards on file, always scoped to the client who asks."""

from django.db.models import QuerySet
from django.http import Http404

from tenant_apps.accounts.models import User
from tenant_apps.clients.models import Client
from tenant_apps.payments.models import PaymentAttempt, SavedCard


def cards_for_client(client: Client, *, account_id: str) -> QuerySet[SavedCard]:
    """The client's cards on the practice's currently connected account."""
    return SavedCard.objects.filter(client=client, account_id=account_id)


def get_card_for_client(client: Client, pk: int | str, *, account_id: str) -> SavedCard:
    card = cards_for_client(client, account_id=account_id).filter(pk=pk).first()
    if card is None:
        raise Http404("No such card")
    return card


def default_card_for_portal_user(user: User, *, account_id: str) -> SavedCard | None:
    """The default card of the client signed in as `user`, in one query."""
    return SavedCard.objects.filter(
        client__user=user, account_id=account_id, is_default=True
    ).first()


def get_attempt_for_client(client: Client, pk: int | str) -> PaymentAttempt:
    """One of `client`'s own payment attempts; 404 for anyone else's."""
    text = str(pk)
    found = (
        PaymentAttempt.objects.filter(client=client, pk=int(text)).first()
        if text.isdigit()
        else None
    )
    if found is None:
        raise Http404("No such payment")
    return found


def chargeable_cards(client: Client, *, account_id: str) -> QuerySet[SavedCard]:
    """The cards staff may charge: the client's, on this account, with their authorization."""
    return cards_for_client(client, account_id=account_id).filter(
        charges_authorized_at__isnull=False
    )
