from datetime import date
from typing import Any

from django import forms
from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator
from django.utils import timezone

from tenant_apps.accounts.models import User
from tenant_apps.clients.models import DEMOGRAPHIC_FIELDS, Client
from tenant_apps.practice.countries import clean_country_code
from tenant_apps.practice.form_tokens import FormTokenMixin
from tenant_apps.practice.phones import normalize_phone

PHONE_FIELDS = ("mobile_phone", "home_phone", "emergency_contact_phone")
NOTES_MAX_LENGTH = 20_000


def validate_date_of_birth(value: date | None) -> date | None:
    if value is not None and not (date(1900, 1, 1) <= value <= timezone.localdate()):
        raise ValidationError("Enter a date of birth between 1900 and today.")
    return value


class _PhoneCleaning(forms.BaseForm):
    def clean_date_of_birth(self) -> date | None:
        return validate_date_of_birth(self.cleaned_data.get("date_of_birth"))

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        for name in PHONE_FIELDS:
            if name in self.fields and cleaned.get(name):
                try:
                    cleaned[name] = normalize_phone(cleaned[name], cleaned.get("country") or "US")
                except ValidationError as error:
                    self.add_error(name, error)
        return cleaned


class ClientForm(FormTokenMixin, _PhoneCleaning, forms.ModelForm):  # type: ignore[misc, type-arg]
    """A client record in the workspace. Adding one carries a one-time `form_token`
    (tenant_apps/practice/form_tokens.py), so the same form sent twice adds the client once."""

    # Declared here so that "USA" gets clean_country's message, not the column's length one.
    country = forms.CharField(required=False, help_text="Two letters, such as US or GB.")

    class Meta:
        model = Client
        fields = [
            "legal_first_name",
            "legal_last_name",
            "preferred_name",
            "pronouns",
            "date_of_birth",
            "email",
            "mobile_phone",
            "home_phone",
            "address_line1",
            "address_line2",
            "city",
            "region",
            "postal_code",
            "country",
            "emergency_contact_name",
            "emergency_contact_phone",
            "emergency_contact_relationship",
            "insurance_payer",
            "insurance_member_id",
            "insurance_group_number",
            "insurance_policy_holder",
            "status",
            "assigned_clinician",
            "staff_notes",
        ]
        widgets = {
            "date_of_birth": forms.DateInput(attrs={"type": "date"}),
            "staff_notes": forms.Textarea(attrs={"rows": 4}),
        }

    def __init__(self, *args: Any, clinicians: Any, show_notes: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["assigned_clinician"].queryset = clinicians  # type: ignore[attr-defined]
        self.fields["assigned_clinician"].label_from_instance = (  # type: ignore[attr-defined]
            lambda user: user.full_name
        )
        if not show_notes:
            del self.fields["staff_notes"]
        else:
            self.fields["staff_notes"].validators.append(MaxLengthValidator(NOTES_MAX_LENGTH))
            self.fields["staff_notes"].widget.attrs["maxlength"] = NOTES_MAX_LENGTH
        if self.instance.pk is None:
            self.add_form_token()

    def clean_country(self) -> str:
        value: str = self.cleaned_data.get("country", "")
        return clean_country_code(value) if value.strip() else ""


class DemographicsForm(_PhoneCleaning, forms.ModelForm):  # type: ignore[misc, type-arg]
    """What the client fills in the portal; prefilled with what the practice has."""

    class Meta:
        model = Client
        fields = list(DEMOGRAPHIC_FIELDS)
        widgets = {"date_of_birth": forms.DateInput(attrs={"type": "date"})}
        labels = {
            "insurance_payer": "Insurance company",
            "insurance_member_id": "Member ID",
            "insurance_group_number": "Group number",
            "insurance_policy_holder": "Policy holder",
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["email"].required = True
        # The model's help text speaks to staff.
        self.fields["email"].help_text = "You sign in to the portal with this address."


class ClientSetPasswordForm(forms.Form):
    """Choosing a portal password. Rules follow NIST SP 800-63B: length and a check against
    common passwords, no composition rules, and no maximum below 64 characters."""

    new_password1 = forms.CharField(
        label="New password",
        strip=False,
        widget=forms.PasswordInput(
            attrs={"autocomplete": "new-password", "data-strength-meter": "true"}
        ),
        help_text="At least 12 characters. A few unrelated words make a strong password.",
    )
    new_password2 = forms.CharField(
        label="Confirm password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def __init__(self, *args: Any, user: User | None = None, **kwargs: Any) -> None:
        self.user = user
        super().__init__(*args, **kwargs)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        first, second = cleaned.get("new_password1"), cleaned.get("new_password2")
        if first and second and first != second:
            self.add_error("new_password2", "The two passwords don't match.")
        elif first:
            try:
                password_validation.validate_password(first, self.user)
            except ValidationError as error:
                self.add_error("new_password1", error)
        return cleaned


class AccessRequestForm(forms.Form):
    first_name = forms.CharField(max_length=100)
    last_name = forms.CharField(max_length=100)
    email = forms.EmailField()
    phone = forms.CharField(max_length=32, required=False, label="Mobile phone")
    # Left empty by people; filled by form-spamming scripts.
    website = forms.CharField(required=False, widget=forms.HiddenInput)

    def clean_phone(self) -> str:
        return normalize_phone(self.cleaned_data.get("phone", ""))


class ClientFilterForm(forms.Form):
    q = forms.CharField(required=False, label="Search")
    status = forms.ChoiceField(required=False, choices=[("", "Any status"), *Client.Status.choices])
    clinician = forms.CharField(required=False)
