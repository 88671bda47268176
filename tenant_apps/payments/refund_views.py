"""Workspace views for one payment: its detail (applications, refunds, disputes) and the
refund of a card payment, with a confirmation step before anything reaches Stripe."""

import secrets
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from tenant_apps.accounts.access import acting_user, staff_required
from tenant_apps.billing import selectors
from tenant_apps.billing.forms import AmountField
from tenant_apps.billing.models import Payment
from tenant_apps.billing.views import managers_only
from tenant_apps.payments import refunds


class RefundForm(forms.Form):
    amount = AmountField(help_text="Up to what is left of the payment.")
    reason = forms.CharField(max_length=200, help_text="Kept with the refund for your records.")
    # A one-time token, so the same form submitted twice makes one refund.
    token = forms.CharField(widget=forms.HiddenInput, max_length=64)

    def __init__(self, *args: Any, payment: Payment, refundable: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.refundable = refundable
        amount = self.fields["amount"]
        assert isinstance(amount, AmountField)
        amount.currency = payment.currency

    def clean_amount(self) -> int:
        amount = self.cleaned_data["amount"]
        if amount is not None and amount > self.refundable:
            raise ValidationError("That is more than is left to refund of this payment.")
        return int(amount)


@staff_required
def payment_detail(request: HttpRequest, pk: str) -> HttpResponse:
    user = acting_user(request)
    payment = selectors.get_payment_for_staff(user, pk)
    can_refund = (
        selectors.can_manage_billing(user)
        and payment.method == Payment.Method.CARD
        and bool(payment.stripe_payment_intent_id)
    )
    return render(
        request,
        "billing/payment.html",
        {
            "payment": payment,
            "client": payment.client,
            "applications": payment.applications.select_related("invoice"),
            "refunds": payment.refunds.all(),
            "disputes": payment.disputes.all(),
            "refunded": selectors.payment_refunded(payment),
            "refundable": selectors.refundable_amount(payment),
            "can_refund": can_refund,
            "currency": payment.currency,
        },
    )


@managers_only
@require_http_methods(["GET", "POST"])
def payment_refund(request: HttpRequest, pk: str) -> HttpResponse:
    """GET: the form. POST without `confirm`: check it and show what will happen. POST with
    `confirm`: make the refund. Going back keeps what was typed."""
    user = acting_user(request)
    payment = selectors.get_payment_for_staff(user, pk)
    if payment.method != Payment.Method.CARD or not payment.stripe_payment_intent_id:
        messages.error(request, "Only card payments can be refunded to a card.")
        return redirect("billing:payment", pk=payment.pk)
    data = request.POST if request.method == "POST" else None
    if data is not None and "confirm" in data:
        already = selectors.submitted_refund(payment, str(data.get("token", ""))[:64])
        if already is not None and already.status != already.Status.REQUESTED:
            # The same form sent twice (a double click, a reload): the first one counted.
            messages.info(request, "This refund was already made.")
            return redirect("billing:payment", pk=payment.pk)
    refundable = selectors.refundable_amount(payment)
    initial = {"amount": refundable, "token": secrets.token_urlsafe(24)}
    form = RefundForm(data, initial=initial, payment=payment, refundable=refundable)
    confirming = False
    if data is not None and "edit" not in data and form.is_valid():
        if "confirm" not in data:
            confirming = True
        else:
            try:
                refund = refunds.refund_payment(
                    payment,
                    actor=user,
                    amount=form.cleaned_data["amount"],
                    reason=form.cleaned_data["reason"],
                    request_key=form.cleaned_data["token"],
                )
            except ValidationError as error:
                form.add_error(None, error)
            except refunds.RefundError as error:
                form.add_error(None, str(error))
            else:
                if refund.is_active:
                    messages.success(request, "Refund made. It reaches the card in 5 to 10 days.")
                else:
                    messages.error(
                        request, f"Stripe did not make the refund: {refund.failure_note}"
                    )
                return redirect("billing:payment", pk=payment.pk)
    return render(
        request,
        "billing/payment_refund.html",
        {
            "payment": payment,
            "client": payment.client,
            "form": form,
            "confirming": confirming,
            "refundable": refundable,
            "currency": payment.currency,
        },
    )
