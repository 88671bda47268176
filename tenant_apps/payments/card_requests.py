"""Cards on file as the workspace sees them: the card panel on a client's page (with cards
that expire within 30 days flagged), a "please add a card" request that staff send to the
client, and the portal task that request leaves until a card is added."""

import datetime
import logging
from typing import Any
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from shared_apps.payments.models import StripeAccount
from shared_apps.payments.selectors import connection_status
from tenant_apps.accounts.access import acting_user, staff_required
from tenant_apps.accounts.models import User
from tenant_apps.audit.services import record_event
from tenant_apps.clients.models import Client
from tenant_apps.clients.selectors import get_client_for_staff
from tenant_apps.mail.models import EmailDelivery
from tenant_apps.mail.registry import email_kind
from tenant_apps.mail.services import queue_email
from tenant_apps.payments.models import SavedCard
from tenant_apps.portal.registry import PortalTask
from tenants.hosts import practice_url
from tenants.schemas import current_practice

logger = logging.getLogger(__name__)

CARD_REQUESTED = "card_requested"
# How long a request keeps its task on the client's portal home (unless a card is added).
REQUEST_DAYS = 30


def _today() -> datetime.date:
    return timezone.localdate(timezone=ZoneInfo(current_practice().time_zone))


def request_card(client: Client, *, actor: User) -> bool:
    """Email the client that the practice asks for a card on file. At most once a day per
    client (the email's key carries the practice's date); False if already asked today."""
    if not connection_status(current_practice()).cards_available:
        raise ValidationError("Cards can be requested once the practice's Stripe account is ready.")
    user = client.user
    if user is None or not user.is_active:
        raise ValidationError("The client has no portal account yet. Invite them first.")
    key = f"{CARD_REQUESTED}:{client.pk}:{_today().isoformat()}"
    if EmailDelivery.objects.filter(key=key).exists():
        return False
    with transaction.atomic():
        queue_email(kind=CARD_REQUESTED, key=key, recipient=user, object_id=client.pk)
        record_event(actor, "payments.card_requested", target=client)
    return True


@email_kind(CARD_REQUESTED)
def card_requested_email(delivery: EmailDelivery) -> EmailMultiAlternatives | None:
    practice = current_practice()
    body = render_to_string(
        "emails/card_requested.txt",
        {"practice": practice, "link": practice_url(practice, reverse("payments_portal:cards"))},
    )
    return EmailMultiAlternatives(
        subject=f"{practice.name}: please add a card in your Client Portal",
        body=body,
        to=[delivery.to_email],
    )


def card_request_tasks(user: User) -> list[PortalTask]:
    """On the portal home: "Add a card on file" while a recent request has no card yet."""
    status = connection_status(current_practice())
    if not status.cards_available:
        return []
    since = timezone.now() - datetime.timedelta(days=REQUEST_DAYS)
    asked = EmailDelivery.objects.filter(
        kind=CARD_REQUESTED, recipient=user, created_at__gte=since
    ).exists()
    if (
        not asked
        or SavedCard.objects.filter(client__user=user, account_id=status.account_id).exists()
    ):
        return []
    return [PortalTask(label="Add a card on file", url=reverse("payments_portal:add_card"))]


def card_panel(request: HttpRequest, user: User, client: Client) -> dict[str, Any]:
    """The client page's card panel: their cards, flagged when expiring within 30 days.

    Reads the account row itself rather than the cached status, so the page costs the same
    number of queries whether that cache is warm or not."""
    account = StripeAccount.objects.filter(practice=current_practice()).first()
    if account is None or not account.is_ready_for_cards:
        return {"available": False, "client": client}
    today = _today()
    rows = [
        {"card": card, "expired": card.is_expired_on(today), "soon": card.expires_soon_on(today)}
        for card in SavedCard.objects.filter(client=client, account_id=account.account_id)
    ]
    return {
        "available": True,
        "client": client,
        "rows": rows,
        "can_request": client.user_id is not None,
    }


def expiring_default_cards(*, limit: int = 50) -> list[SavedCard]:
    """Default cards (on the connected account) that expire within 30 days or have expired,
    soonest first: the practice's list of clients to ask for a new card."""
    status = connection_status(current_practice())
    if not status.cards_available:
        return []
    today = _today()
    # Cards expire at the end of their month: the candidates are this month's and next's.
    soon = today + datetime.timedelta(days=31)
    candidates = (
        SavedCard.objects.filter(account_id=status.account_id, is_default=True)
        .filter(exp_year__lte=soon.year)
        .select_related("client")
        .order_by("exp_year", "exp_month", "id")
    )
    found = []
    for card in candidates:
        if (card.exp_year, card.exp_month) > (soon.year, soon.month):
            break
        if card.expires_soon_on(today):
            found.append(card)
        if len(found) >= limit:
            break
    return found


@staff_required
@require_POST
def ask_for_card(request: HttpRequest, pk: str) -> HttpResponse:
    user = acting_user(request)
    client = get_client_for_staff(user, pk)
    try:
        sent = request_card(client, actor=user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        done = "The client was asked to add a card." if sent else "They were already asked today."
        messages.success(request, done)
    return redirect("clients:detail", pk=client.pk)
