"""Billing forms. Amounts are typed in major units ('150.00', '5000' for yen) and become
integer minor units here, through Decimal, never float."""

from datetime import date, timedelta
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone

from tenant_apps.billing import codes
from tenant_apps.billing.identifiers import validate_npi, validate_taxonomy
from tenant_apps.billing.models import (
    MAX_INVOICE_LINES,
    BillingProfile,
    Invoice,
    Location,
    Payment,
    Service,
)
from tenant_apps.billing.money import decimal_string, format_amount, max_amount, parse_amount
from tenant_apps.practice.form_tokens import FormTokenMixin

CURRENCIES = ["USD", "CAD", "GBP", "EUR", "AUD", "NZD", "INR", "JPY"]
MAX_UNITS = 100
EARLIEST_DATE = date(1900, 1, 1)
# Services may be billed ahead (a package of sessions), but not years ahead.
SERVICE_DATE_HORIZON = timedelta(days=365)


def check_date(value: date, *, latest: date, too_late: str) -> date:
    """`value` if it lies between EARLIEST_DATE and `latest`. Callers count from
    timezone.localdate(), the practice's day: the tenant middleware activates its zone."""
    if value < EARLIEST_DATE:
        raise ValidationError("Enter a date in 1900 or later.")
    if value > latest:
        raise ValidationError(too_late)
    return value


class AmountField(forms.CharField):
    """Major units in, integer minor units out, in the currency given to the form."""

    def __init__(self, *args: Any, allow_zero: bool = False, **kwargs: Any) -> None:
        self.currency = "USD"
        self.allow_zero = allow_zero
        kwargs.setdefault("widget", forms.TextInput(attrs={"inputmode": "decimal"}))
        super().__init__(*args, **kwargs)

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, int) and not isinstance(value, bool):
            return decimal_string(value, self.currency)
        return value

    def clean(self, value: Any) -> int | None:  # type: ignore[override]
        text = super().clean(value)
        if not text:
            return None
        amount = parse_amount(text, self.currency)
        if amount < 0 or (amount == 0 and not self.allow_zero):
            raise ValidationError("Enter an amount more than zero.")
        return amount


def _set_currency(form: forms.BaseForm, currency: str) -> None:
    for field in form.fields.values():
        if isinstance(field, AmountField):
            field.currency = currency


class ServiceForm(forms.ModelForm):  # type: ignore[type-arg]
    fee = AmountField(allow_zero=True)

    class Meta:
        model = Service
        fields = ["name", "cpt_code", "default_duration_minutes", "fee", "taxable", "is_active"]
        widgets = {"cpt_code": forms.TextInput(attrs={"list": "cpt-codes"})}
        help_texts = {"cpt_code": "Type to search common psychotherapy and evaluation codes."}

    def __init__(self, *args: Any, currency: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _set_currency(self, currency)

    def clean_cpt_code(self) -> str:
        return codes.validate_cpt(self.cleaned_data["cpt_code"])


class BillingProfileForm(forms.ModelForm):  # type: ignore[type-arg]
    tax_id = forms.CharField(
        label="Tax id",
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
        help_text="Leave empty to keep the stored one. Stored encrypted; shown masked.",
    )
    currency = forms.ChoiceField(choices=[(code, code) for code in CURRENCIES])

    class Meta:
        model = BillingProfile
        fields = [
            "legal_name",
            "tax_id_kind",
            "npi_individual",
            "npi_organization",
            "taxonomy_code",
            "tax_rate_basis_points",
            "payment_terms_days",
            "monthly_statements_enabled",
            "statement_day",
        ]

    def clean_npi_individual(self) -> str:
        value = self.cleaned_data.get("npi_individual", "")
        return validate_npi(value) if value else ""

    def clean_npi_organization(self) -> str:
        value = self.cleaned_data.get("npi_organization", "")
        return validate_npi(value) if value else ""

    def clean_taxonomy_code(self) -> str:
        value = self.cleaned_data.get("taxonomy_code", "")
        return validate_taxonomy(value) if value else ""

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        from tenant_apps.billing.identifiers import normalize_tax_id

        if cleaned.get("tax_id"):
            try:
                normalize_tax_id(cleaned["tax_id"], cleaned.get("tax_id_kind") or "ein")
            except ValidationError as error:
                self.add_error("tax_id", error)
        return cleaned


class LocationForm(forms.ModelForm):  # type: ignore[type-arg]
    place_of_service = forms.ChoiceField(choices=codes.place_of_service_choices)

    class Meta:
        model = Location
        fields = [
            "name",
            "address_line1",
            "city",
            "region",
            "postal_code",
            "place_of_service",
            "is_active",
        ]


class InvoiceLineForm(forms.Form):
    service = forms.ModelChoiceField(queryset=Service.objects.none(), required=False)
    description = forms.CharField(max_length=200, required=False)
    date_of_service = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    units = forms.IntegerField(min_value=1, max_value=MAX_UNITS, initial=1)
    unit_fee = AmountField(label="Fee", required=False, allow_zero=True)
    adjustment = AmountField(required=False, allow_zero=True)
    adjustment_reason = forms.CharField(max_length=120, required=False)
    modifiers = forms.CharField(max_length=20, required=False)

    def __init__(self, *args: Any, currency: str = "USD", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["service"].queryset = Service.objects.filter(is_active=True)  # type: ignore[attr-defined]
        _set_currency(self, currency)

    def clean_date_of_service(self) -> date:
        return check_date(
            self.cleaned_data["date_of_service"],
            latest=timezone.localdate() + SERVICE_DATE_HORIZON,
            too_late="Enter a date of service no more than a year from today.",
        )

    def clean_modifiers(self) -> str:
        return codes.validate_modifiers(self.cleaned_data.get("modifiers", ""))

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        service = cleaned.get("service")
        if cleaned.get("unit_fee") is None:
            if service is None:
                self.add_error("unit_fee", "Enter a fee, or choose a service.")
            else:
                cleaned["unit_fee"] = service.fee
        if not service and not cleaned.get("description"):
            self.add_error("description", "Describe the service, or choose one.")
        return cleaned


class BaseLineFormSet(forms.BaseFormSet):  # type: ignore[type-arg]
    default_error_messages = {
        "too_many_forms": "An invoice can have at most %(num)d lines.",
    }

    def __init__(self, *args: Any, currency: str = "USD", **kwargs: Any) -> None:
        self.currency = currency
        super().__init__(*args, **kwargs)

    def get_form_kwargs(self, index: int | None) -> dict[str, Any]:
        return {**super().get_form_kwargs(index), "currency": self.currency}

    def clean(self) -> None:
        """The lines' sum, before tax, may not exceed what one invoice can total."""
        if any(self.errors):
            return
        subtotal = sum(
            line["units"] * line["unit_fee"] - (line.get("adjustment") or 0)
            for line in self.cleaned_data
            if line
        )
        if subtotal > max_amount(self.currency):
            limit = format_amount(max_amount(self.currency), self.currency)
            raise ValidationError(f"An invoice can total at most {limit}.")


InvoiceLineFormSet = forms.formset_factory(
    InvoiceLineForm,
    formset=BaseLineFormSet,
    extra=3,
    min_num=1,
    validate_min=True,
    max_num=MAX_INVOICE_LINES,
    validate_max=True,
)


class InvoiceForm(FormTokenMixin, forms.Form):
    location = forms.ModelChoiceField(queryset=Location.objects.none(), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["location"].queryset = Location.objects.filter(is_active=True)  # type: ignore[attr-defined]
        self.add_form_token()


class PaymentForm(FormTokenMixin, forms.Form):
    method = forms.ChoiceField(choices=[c for c in Payment.Method.choices if c[0] != "card"])
    amount = AmountField()
    received_on = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    reference = forms.CharField(max_length=80, required=False, label="Reference (check number)")

    def __init__(self, *args: Any, currency: str, invoices: list[Invoice], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.invoices = invoices
        for invoice in invoices:
            self.fields[f"apply_{invoice.pk}"] = AmountField(
                label=f"Apply to {invoice.label}", required=False, allow_zero=True
            )
        _set_currency(self, currency)
        self.add_form_token()

    def clean_received_on(self) -> date:
        return check_date(
            self.cleaned_data["received_on"],
            latest=timezone.localdate(),
            too_late="A payment cannot be received after today.",
        )

    def applications(self) -> list[tuple[Invoice, int]]:
        return [
            (invoice, self.cleaned_data[f"apply_{invoice.pk}"])
            for invoice in self.invoices
            if self.cleaned_data.get(f"apply_{invoice.pk}")
        ]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        total = sum(cleaned.get(f"apply_{invoice.pk}") or 0 for invoice in self.invoices)
        if cleaned.get("amount") and total > cleaned["amount"]:
            raise ValidationError("The amounts applied add up to more than the payment.")
        return cleaned


class WriteOffForm(forms.Form):
    amount = AmountField()
    reason = forms.CharField(max_length=200)

    def __init__(self, *args: Any, currency: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _set_currency(self, currency)


class VoidForm(forms.Form):
    reason = forms.CharField(max_length=200)


class StatementForm(forms.Form):
    start = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))

    def _period_date(self, name: str) -> date:
        # Up to the furthest date a service may be billed for.
        return check_date(
            self.cleaned_data[name],
            latest=timezone.localdate() + SERVICE_DATE_HORIZON,
            too_late="Enter a date no more than a year from today.",
        )

    def clean_start(self) -> date:
        return self._period_date("start")

    def clean_end(self) -> date:
        return self._period_date("end")

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        start, end = cleaned.get("start"), cleaned.get("end")
        if start and end and end < start:
            raise ValidationError("The end date is before the start date.")
        return cleaned


class SuperbillForm(forms.Form):
    dates = forms.MultipleChoiceField(widget=forms.CheckboxSelectMultiple, label="Dates of service")
    hide_diagnosis_descriptions = forms.BooleanField(required=False)

    def __init__(self, *args: Any, dates: list[date], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["dates"].choices = [  # type: ignore[attr-defined]
            (day.isoformat(), f"{day:%b} {day.day}, {day.year}") for day in dates
        ]

    def clean_dates(self) -> list[date]:
        return [date.fromisoformat(value) for value in self.cleaned_data["dates"]]


class DiagnosisForm(forms.Form):
    code = forms.CharField(
        max_length=10, label="ICD-10-CM code", widget=forms.TextInput(attrs={"list": "icd-codes"})
    )

    def clean_code(self) -> str:
        return codes.validate_icd10(self.cleaned_data["code"])
