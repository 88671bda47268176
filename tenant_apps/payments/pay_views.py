"""Paying by card in the portal's Billing & Payments: choose what to pay, pay with a saved or a
new card, and a receipt. Hidden (404) until the practice's Stripe account can take charges."""

import logging
from zoneinfo import ZoneInfo

import stripe
from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from shared_apps.payments.selectors import ConnectionStatus, connection_status
from tenant_apps.accounts.access import acting_user, client_required
from tenant_apps.billing import selectors as billing_selectors
from tenant_apps.clients.models import Client
from tenant_apps.clients.selectors import client_for_portal_user
from tenant_apps.payments import charging, selectors
from tenant_apps.payments.forms import NEW_CARD, PayForm, new_form_token
from tenant_apps.payments.models import PaymentAttempt
from tenants.models import Practice

logger = logging.getLogger(__name__)


def _context(request: HttpRequest) -> tuple[Practice, ConnectionStatus, Client]:
    practice = request.tenant  # type: ignore[attr-defined]
    assert isinstance(practice, Practice)
    status = connection_status(practice)
    if not status.cards_available:
        raise Http404("Card payments are not available at this practice")
    return practice, status, client_for_portal_user(acting_user(request))


def _next_step(attempt: PaymentAttempt) -> HttpResponse:
    """Where an attempt sends the client: the receipt, the bank's check, the card form, or
    back to the payment form with what went wrong."""
    if attempt.status == PaymentAttempt.Status.SUCCEEDED:
        return redirect("pay_portal:receipt", attempt.pk)
    if attempt.status in (PaymentAttempt.Status.STARTED, PaymentAttempt.Status.REQUIRES_ACTION):
        return redirect("pay_portal:confirm", attempt.pk)
    if attempt.status == PaymentAttempt.Status.PROCESSING:
        return redirect("pay_portal:receipt", attempt.pk)
    return redirect("pay_portal:pay")


@client_required
@require_http_methods(["GET", "POST"])
def pay(request: HttpRequest) -> HttpResponse:
    practice, status, client = _context(request)
    invoices = list(billing_selectors.open_invoices(client))
    cards = list(selectors.cards_for_client(client, account_id=status.account_id))
    balance = billing_selectors.client_balance(client)
    form = PayForm(request.POST or None, invoices=invoices, cards=cards, currency=practice.currency)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        card = (
            None
            if data["card"] == NEW_CARD
            else selectors.get_card_for_client(client, data["card"], account_id=status.account_id)
        )
        try:
            attempt = charging.start_payment(
                client,
                actor=acting_user(request),
                scope=data["scope"],
                invoice_ids=data["invoices"],
                amount=data["amount_minor"],
                card=card,
                form_token=data["form_token"],
            )
        except charging.PaymentError as error:
            form.add_error(None, str(error))
        except stripe.StripeError:
            logger.warning("Could not start a payment for client %s", client.pk)
            form.add_error(None, charging.UNREACHABLE)
        else:
            if attempt.status == PaymentAttempt.Status.FAILED:
                form.add_error(None, attempt.failure_message)
            elif attempt.status == PaymentAttempt.Status.CANCELED:
                form.add_error(None, "That payment was canceled. Nothing was charged.")
            else:
                return _next_step(attempt)
    if form.is_bound:
        # A fresh token, so that trying again after an error is a new attempt.
        fresh = request.POST.copy()
        fresh["form_token"] = new_form_token()
        form.data = fresh
    return render(
        request,
        "payments/portal/pay.html",
        {"form": form, "balance": balance, "invoices": invoices, "currency": practice.currency},
        status=200,
    )


@client_required
@require_GET
def confirm(request: HttpRequest, pk: str) -> HttpResponse:
    """Stripe.js confirms here: a new card through Elements, or the bank's check (3-D Secure)
    for a saved card."""
    _, status, client = _context(request)
    attempt = selectors.get_attempt_for_client(client, pk)
    if attempt.status not in (
        PaymentAttempt.Status.STARTED,
        PaymentAttempt.Status.REQUIRES_ACTION,
    ):
        return _next_step(attempt)
    try:
        client_secret = charging.client_secret_for(attempt)
    except stripe.StripeError:
        logger.warning("Could not read the PaymentIntent of attempt %s", attempt.pk)
        messages.error(request, charging.UNREACHABLE)
        return redirect("pay_portal:pay")
    return render(
        request,
        "payments/portal/pay_confirm.html",
        {
            "attempt": attempt,
            "client_secret": client_secret,
            "stripe_account": status.account_id,
            "publishable_key": settings.STRIPE_PUBLISHABLE_KEY,
            "stripe_js_url": settings.STRIPE_JS_URL,
            "needs_action": attempt.status == PaymentAttempt.Status.REQUIRES_ACTION,
            "return_url": request.build_absolute_uri(
                reverse("pay_portal:return", args=[attempt.pk])
            ),
        },
    )


def _settle(request: HttpRequest, pk: str) -> HttpResponse:
    _, _, client = _context(request)
    attempt = selectors.get_attempt_for_client(client, pk)
    try:
        attempt = charging.settle(attempt)
    except stripe.StripeError:
        logger.warning("Could not settle payment attempt %s", attempt.pk)
        messages.error(
            request,
            "We could not confirm your payment with our card processor yet. If it went "
            "through, it will show here shortly; please do not pay again.",
        )
        return redirect("billing_portal:home")
    if attempt.status == PaymentAttempt.Status.FAILED:
        messages.error(request, attempt.failure_message)
    return _next_step(attempt)


@client_required
@require_POST
def complete(request: HttpRequest, pk: str) -> HttpResponse:
    """Posted by the confirm page once Stripe.js is done. Nothing in the body is used: the
    PaymentIntent is read back from Stripe."""
    return _settle(request, pk)


@client_required
@require_GET
def stripe_return(request: HttpRequest, pk: str) -> HttpResponse:
    """Where Stripe sends the browser after a redirect (a bank's page). Safe as a GET: it only
    reads the attempt's own PaymentIntent back from Stripe."""
    return _settle(request, pk)


@client_required
@require_GET
def receipt(request: HttpRequest, pk: str) -> HttpResponse:
    practice, _, client = _context(request)
    attempt = selectors.get_attempt_for_client(client, pk)
    if attempt.status not in (PaymentAttempt.Status.SUCCEEDED, PaymentAttempt.Status.PROCESSING):
        raise Http404("No receipt for this payment")
    applications = (
        list(attempt.payment.applications.select_related("invoice").order_by("id"))
        if attempt.payment
        else []
    )
    return render(
        request,
        "payments/portal/receipt.html",
        {
            "attempt": attempt,
            "applications": applications,
            "zone": ZoneInfo(practice.time_zone),
        },
    )


@client_required
@require_POST
def authorize_card(request: HttpRequest, pk: str) -> HttpResponse:
    """The client lets the practice charge a saved card (checkbox on the cards page), or
    withdraws that permission."""
    _, status, client = _context(request)
    card = selectors.get_card_for_client(client, pk, account_id=status.account_id)
    if request.POST.get("authorize") == "yes":
        charging.authorize_charges(card, actor=acting_user(request))
        messages.success(
            request,
            f"The practice may now charge your {card.brand.title()} card ending {card.last4} "
            "for what you owe.",
        )
    else:
        charging.withdraw_authorization(card, actor=acting_user(request))
        messages.success(
            request, f"The practice may no longer charge your card ending {card.last4}."
        )
    return redirect("payments_portal:cards")
