"""Input forms for the workspace and the portal's signature block."""

import json
from typing import Any

from django import forms
from django.http import HttpRequest, QueryDict

from tenant_apps.intake import definitions
from tenant_apps.intake.signatures import SignatureInput, clean_signature


class SendFormsForm(forms.Form):
    due_date = forms.DateField(
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="Optional. The forms show as overdue from the day after.",
    )
    message = forms.CharField(
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Optional. Shown to the client in the portal; never included in the email.",
    )


class DefinitionForm(forms.Form):
    """The builder posts the whole form as JSON; definitions.clean_definition checks it."""

    definition = forms.CharField(widget=forms.HiddenInput, max_length=2_000_000)

    def clean_definition(self) -> Any:
        try:
            return json.loads(self.cleaned_data["definition"])
        except ValueError:
            raise forms.ValidationError(
                "The form could not be read. Reload the page and try again."
            ) from None


def posted_answers(definition: dict[str, Any], data: QueryDict) -> dict[str, Any]:
    """The answers in a posted fill form (fields named q_<key>)."""
    raw: dict[str, Any] = {}
    for question in definitions.answerable(definition):
        name = f"q_{question['key']}"
        if question["type"] == definitions.MULTIPLE_CHOICE:
            raw[question["key"]] = data.getlist(name)
        elif question["type"] != definitions.FILE:
            raw[question["key"]] = data.get(name, "")
    return raw


def posted_signature(
    request: HttpRequest, *, allowed_relationships: tuple[str, ...] | None = None
) -> tuple[SignatureInput | None, dict[str, str]]:
    data = request.POST
    options: dict[str, Any] = {}
    if allowed_relationships is not None:
        options["allowed_relationships"] = allowed_relationships
    return clean_signature(
        full_name=data.get("sig_full_name", ""),
        method=data.get("sig_method", ""),
        image=data.get("sig_image", ""),
        relationship=data.get("sig_relationship", ""),
        relationship_detail=data.get("sig_relationship_detail", ""),
        agreed=data.get("sig_agree") == "yes",
        **options,
    )
