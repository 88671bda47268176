import zoneinfo
from functools import cache
from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from tenant_apps.accounts.models import Role
from tenant_apps.practice.countries import clean_country_code
from tenant_apps.practice.phones import normalize_phone
from tenants.models import MAX_CLIENT_IDLE_TIMEOUT, MIN_CLIENT_IDLE_TIMEOUT, Practice
from tenants.slugs import MAX_LENGTH, validate_slug


@cache
def time_zone_names() -> list[str]:
    return sorted(zoneinfo.available_timezones() - {"localtime", "Factory"})


@cache
def _time_zones_by_folded_name() -> dict[str, str]:
    return {name.casefold(): name for name in time_zone_names()}


class PracticeDetailsForm(forms.ModelForm):  # type: ignore[type-arg]
    """What clients see at the top of the portal, entered by the practice."""

    time_zone = forms.CharField(
        help_text="Start typing a city, e.g. America/New_York or Europe/London.",
        widget=forms.TextInput(attrs={"list": "time-zones", "autocomplete": "off"}),
    )

    country = forms.CharField(help_text="Two letters, such as US or GB.")
    cancellation_policy = forms.CharField(
        required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 4})
    )

    class Meta:
        model = Practice
        fields = [
            "name",
            "time_zone",
            "phone",
            "address_line1",
            "address_line2",
            "city",
            "region",
            "postal_code",
            "country",
            "show_address_to_clients",
            "cancellation_policy",
            "cancellation_notice_hours",
            "client_idle_timeout_minutes",
        ]
        labels = {
            "name": "Practice name",
            "show_address_to_clients": "Show the address to clients",
            "cancellation_notice_hours": "Cancellation notice (hours)",
        }
        help_texts = {
            "name": "Shown at the top of your Client Portal.",
            "phone": "Include the area code; we format it for you.",
            "cancellation_notice_hours": "How long before an appointment clients must cancel.",
            "client_idle_timeout_minutes": (
                f"Between {MIN_CLIENT_IDLE_TIMEOUT} and {MAX_CLIENT_IDLE_TIMEOUT}; "
                "clients get a warning first."
            ),
        }
        widgets = {"cancellation_policy": forms.Textarea(attrs={"rows": 4})}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The model's validators check the range; the browser's number input should offer it.
        idle = self.fields["client_idle_timeout_minutes"]
        idle.widget.attrs.update({"min": MIN_CLIENT_IDLE_TIMEOUT, "max": MAX_CLIENT_IDLE_TIMEOUT})

    def clean_time_zone(self) -> str:
        """The canonical IANA name, whatever the case it was typed in."""
        typed = self.cleaned_data["time_zone"].strip()
        name = _time_zones_by_folded_name().get(typed.casefold())
        if name is None:
            raise ValidationError("Choose a time zone from the list, such as America/New_York.")
        return name

    def clean_country(self) -> str:
        return clean_country_code(self.cleaned_data["country"])

    def clean(self) -> dict[str, object]:
        cleaned = super().clean() or {}
        if cleaned.get("phone"):
            try:
                cleaned["phone"] = normalize_phone(cleaned["phone"], cleaned.get("country") or "US")
            except ValidationError as error:
                self.add_error("phone", error)
        return cleaned


class PortalAddressForm(forms.Form):
    slug = forms.CharField(
        label="Practice URL",
        max_length=MAX_LENGTH,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )

    def clean_slug(self) -> str:
        return validate_slug(self.cleaned_data["slug"])


class StaffInviteForm(forms.Form):
    full_name = forms.CharField(max_length=150)
    email = forms.EmailField()
    role = forms.ChoiceField(
        choices=[(Role.CLINICIAN, "Clinician"), (Role.BILLER, "Biller"), (Role.OWNER, "Owner")]
    )
