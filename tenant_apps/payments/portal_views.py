"""The client's cards on file in the portal. Hidden (404) until the practice's Stripe
account can take charges."""

import logging
from zoneinfo import ZoneInfo

import stripe
from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from shared_apps.payments.selectors import ConnectionStatus, connection_status
from tenant_apps.accounts.access import acting_user, client_required
from tenant_apps.accounts.models import User
from tenant_apps.clients.models import Client
from tenant_apps.clients.selectors import client_for_portal_user
from tenant_apps.payments import cards, charging, selectors
from tenant_apps.portal.registry import PortalTask
from tenants.models import Practice
from tenants.schemas import current_practice

logger = logging.getLogger(__name__)

UNREACHABLE = "We could not reach our card processor. Nothing was changed; please try again."


def _context(request: HttpRequest) -> tuple[Practice, ConnectionStatus, Client]:
    practice = request.tenant  # type: ignore[attr-defined]
    assert isinstance(practice, Practice)
    status = connection_status(practice)
    if not status.cards_available:
        raise Http404("Cards are not available at this practice")
    return practice, status, client_for_portal_user(acting_user(request))


@client_required
@require_GET
def card_list(request: HttpRequest) -> HttpResponse:
    practice, status, client = _context(request)
    today = timezone.localdate(timezone=ZoneInfo(practice.time_zone))
    saved = list(selectors.cards_for_client(client, account_id=status.account_id))
    rows = [
        {"card": card, "expired": card.is_expired_on(today), "soon": card.expires_soon_on(today)}
        for card in saved
    ]
    return render(request, "payments/portal/cards.html", {"rows": rows})


@client_required
@require_GET
def add_card(request: HttpRequest) -> HttpResponse:
    _, status, client = _context(request)
    try:
        client_secret = cards.begin_card_setup(client, actor=acting_user(request))
    except stripe.StripeError:
        logger.warning("Could not start a card setup for client %s", client.pk)
        messages.error(request, UNREACHABLE)
        return redirect("payments_portal:cards")
    return render(
        request,
        "payments/portal/add_card.html",
        {
            "client_secret": client_secret,
            "stripe_account": status.account_id,
            "publishable_key": settings.STRIPE_PUBLISHABLE_KEY,
            "stripe_js_url": settings.STRIPE_JS_URL,
            "return_url": request.build_absolute_uri(reverse("payments_portal:card_return")),
        },
    )


def _complete(
    request: HttpRequest, setup_intent_id: str, *, authorize: bool = False
) -> HttpResponse:
    _, _, client = _context(request)
    try:
        card = cards.complete_card_setup(
            client, actor=acting_user(request), setup_intent_id=setup_intent_id
        )
    except cards.CardError as error:
        messages.error(request, str(error))
    except stripe.StripeError:
        logger.warning("Could not complete a card setup for client %s", client.pk)
        messages.error(request, UNREACHABLE)
    else:
        if authorize:
            charging.authorize_charges(card, actor=acting_user(request))
        messages.success(request, f"Your {card.brand} card ending {card.last4} is saved.")
    return redirect("payments_portal:cards")


@client_required
@require_POST
def complete_card(request: HttpRequest) -> HttpResponse:
    """Posted by the add-card page once Stripe.js has confirmed the SetupIntent."""
    return _complete(
        request,
        request.POST.get("setup_intent", ""),
        authorize=request.POST.get("authorize") == "yes",
    )


@client_required
@require_GET
def card_return(request: HttpRequest) -> HttpResponse:
    """Where Stripe sends the browser after a redirect-based confirmation (e.g. 3-D Secure).
    Safe as a GET: it only reads the SetupIntent back from Stripe, and only one of this
    client's own Customer is accepted."""
    return _complete(request, request.GET.get("setup_intent", ""))


@client_required
@require_POST
def make_default(request: HttpRequest, pk: str) -> HttpResponse:
    _, status, client = _context(request)
    card = selectors.get_card_for_client(client, pk, account_id=status.account_id)
    cards.make_default(card, actor=acting_user(request))
    messages.success(request, f"Your {card.brand} card ending {card.last4} is now the default.")
    return redirect("payments_portal:cards")


@client_required
@require_POST
def remove(request: HttpRequest, pk: str) -> HttpResponse:
    _, status, client = _context(request)
    card = selectors.get_card_for_client(client, pk, account_id=status.account_id)
    try:
        cards.remove_card(card, actor=acting_user(request))
    except stripe.StripeError:
        logger.warning("Could not remove card %s", card.pk)
        messages.error(request, UNREACHABLE)
    else:
        messages.success(request, "The card was removed.")
    return redirect("payments_portal:cards")


def card_tasks(user: User) -> list[PortalTask]:
    """On the portal home: ask the client to replace a default card that expires within 30
    days (or has expired). Nothing while the practice cannot take cards."""
    practice = current_practice()
    status = connection_status(practice)
    if not status.cards_available:
        return []
    card = selectors.default_card_for_portal_user(user, account_id=status.account_id)
    today = timezone.localdate(timezone=ZoneInfo(practice.time_zone))
    if card is None or not card.expires_soon_on(today):
        return []
    return [PortalTask(label="Update your card on file", url=reverse("payments_portal:cards"))]
