"""Staff charge a client's saved card for an open invoice, off-session, only with the
client's authorization on file. Owners and billers only."""

import logging

import stripe
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from shared_apps.payments.selectors import connection_status
from tenant_apps.accounts.access import acting_user
from tenant_apps.billing import selectors as billing_selectors
from tenant_apps.billing.views import managers_only
from tenant_apps.payments import charging, selectors
from tenant_apps.payments.forms import ChargeForm, new_form_token
from tenant_apps.payments.models import PaymentAttempt
from tenants.models import Practice

logger = logging.getLogger(__name__)


@managers_only
@require_http_methods(["GET", "POST"])
def charge_invoice(request: HttpRequest, pk: str) -> HttpResponse:
    """GET asks for confirmation (the amount, the card); POST charges."""
    user = acting_user(request)
    practice = request.tenant  # type: ignore[attr-defined]
    assert isinstance(practice, Practice)
    status = connection_status(practice)
    if not status.cards_available:
        raise Http404("Card payments are not available at this practice")
    invoice = billing_selectors.get_invoice_for_staff(user, pk)
    client = invoice.client
    due = billing_selectors.invoice_balance_due(invoice)
    cards = list(selectors.chargeable_cards(client, account_id=status.account_id))
    form = ChargeForm(request.POST or None, cards=cards)

    if request.method == "POST" and form.is_valid():
        card = selectors.get_card_for_client(
            client, form.cleaned_data["card"], account_id=status.account_id
        )
        try:
            attempt = charging.start_payment(
                client,
                actor=user,
                scope=PaymentAttempt.Scope.INVOICES,
                invoice_ids=[invoice.pk],
                card=card,
                off_session=True,
                form_token=form.cleaned_data["form_token"],
            )
        except charging.PaymentError as error:
            form.add_error(None, str(error))
        except stripe.StripeError:
            logger.warning("Could not start a staff charge for invoice %s", invoice.pk)
            form.add_error(None, charging.UNREACHABLE)
        else:
            if attempt.status == PaymentAttempt.Status.SUCCEEDED:
                messages.success(request, f"The card was charged and applied to {invoice.label}.")
                return redirect("billing:invoice", invoice.pk)
            if attempt.status == PaymentAttempt.Status.PROCESSING:
                messages.success(request, "The charge is processing; it will apply when done.")
                return redirect("billing:invoice", invoice.pk)
            form.add_error(None, attempt.failure_message or "The charge did not go through.")
        fresh = request.POST.copy()
        fresh["form_token"] = new_form_token()
        form.data = fresh

    return render(
        request,
        "payments/charge.html",
        {
            "invoice": invoice,
            "client": client,
            "due": due,
            "form": form,
            "cards": cards,
            "currency": practice.currency,
        },
    )
