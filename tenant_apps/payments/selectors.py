"""Reads of cards on file, always scoped to the client who asks."""

from django.db.models import QuerySet
from django.http import Http404

from tenant_apps.accounts.models import User
from tenant_apps.clients.models import Client
from tenant_apps.payments.models import SavedCard


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
