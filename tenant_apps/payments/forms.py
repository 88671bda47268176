"""Forms for card payments. They say what to pay, never how much: amounts come from the
ledger, except the partial amount a client types, which is checked against the balance."""

import secrets
from typing import Any, cast

from django import forms
from django.core.exceptions import ValidationError

from tenant_apps.billing.models import Invoice
from tenant_apps.billing.money import format_amount, parse_amount
from tenant_apps.payments.models import PaymentAttempt, SavedCard

NEW_CARD = "new"


def new_form_token() -> str:
    return secrets.token_urlsafe(24)


class PayForm(forms.Form):
    scope = forms.ChoiceField(
        label="What would you like to pay?",
        choices=PaymentAttempt.Scope.choices,
        widget=forms.RadioSelect,
        initial=PaymentAttempt.Scope.BALANCE,
    )
    invoices = forms.MultipleChoiceField(
        label="Invoices", required=False, widget=forms.CheckboxSelectMultiple
    )
    amount = forms.CharField(
        label="Amount", required=False, max_length=20, widget=forms.TextInput(
            attrs={"inputmode": "decimal", "autocomplete": "off"}
        )
    )  # fmt: skip
    card = forms.ChoiceField(label="Pay with", widget=forms.RadioSelect)
    form_token = forms.CharField(widget=forms.HiddenInput, max_length=64)

    def __init__(
        self,
        *args: Any,
        invoices: list[Invoice],
        cards: list[SavedCard],
        currency: str,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.currency = currency
        cast(forms.ChoiceField, self.fields["invoices"]).choices = [
            (
                str(invoice.pk),
                f"{invoice.label}, {format_amount(invoice.balance_due, currency)} due",  # type: ignore[attr-defined]
            )
            for invoice in invoices
        ]
        cast(forms.ChoiceField, self.fields["card"]).choices = [
            (str(card.pk), f"{card.brand.title()} ending {card.last4}") for card in cards
        ] + [(NEW_CARD, "A new card")]
        self.fields["card"].initial = str(cards[0].pk) if cards else NEW_CARD
        self.fields["amount"].help_text = f"In {currency}, no more than your balance."
        if not self.is_bound:
            self.initial.setdefault("form_token", new_form_token())

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        scope = data.get("scope")
        if scope == PaymentAttempt.Scope.INVOICES and not data.get("invoices"):
            self.add_error("invoices", "Choose one or more invoices.")
        data["amount_minor"] = None
        if scope == PaymentAttempt.Scope.PARTIAL:
            raw = (data.get("amount") or "").strip()
            if not raw:
                self.add_error("amount", "Enter the amount you would like to pay.")
            else:
                try:
                    data["amount_minor"] = parse_amount(raw, self.currency)
                except ValidationError as error:
                    self.add_error("amount", error)
        return data


class ChargeForm(forms.Form):
    """Staff: which authorized card to charge for one invoice."""

    card = forms.ChoiceField(label="Card", widget=forms.RadioSelect)
    form_token = forms.CharField(widget=forms.HiddenInput, max_length=64)

    def __init__(self, *args: Any, cards: list[SavedCard], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["card"]).choices = [
            (str(card.pk), f"{card.brand.title()} ending {card.last4}") for card in cards
        ]
        if cards:
            self.fields["card"].initial = str(cards[0].pk)
        if not self.is_bound:
            self.initial.setdefault("form_token", new_form_token())
