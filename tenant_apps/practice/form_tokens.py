"""One-time tokens that make a form which creates something safe to send twice.

The page carries a random token in a hidden field; the row the form creates keeps it, under a
unique constraint. The same form sent again (a double click, a browser retrying a slow
request) then finds the row the first submit made instead of making a twin. A post without a
token is refused with a fresh one in the page, so that saving again is still one click; so is
a used token sent with other details (Back, edit, save), which the view checks with
`refuse_used_token`: the first row stands and the new details are kept in the page.
"""

import secrets
from typing import Any, cast

from django import forms
from django.http import QueryDict

FORM_EXPIRED_MESSAGE = "This form has expired. Check the details and save again."
FORM_TOKEN_MAX_LENGTH = 64


def new_form_token() -> str:
    return secrets.token_urlsafe(24)


class FormTokenMixin:
    """For forms.Form and ModelForm subclasses: call `add_form_token()` from `__init__`."""

    token_missing = False

    def add_form_token(self) -> None:
        form = cast(forms.BaseForm, self)
        form.fields["form_token"] = forms.CharField(
            widget=forms.HiddenInput, max_length=FORM_TOKEN_MAX_LENGTH, required=False
        )
        if not form.is_bound:
            form.initial["form_token"] = new_form_token()
        elif not str(form.data.get("form_token", "")).strip():
            # Refused in clean(); the page shown again carries a fresh token to save with.
            self.token_missing = True
            self._renew_token()

    def refuse_used_token(self, message: str) -> None:
        """The posted token already made a row that these details do not match: refuse with
        `message`, and give the page shown again a fresh token to save the new details with."""
        form = cast(forms.BaseForm, self)
        form.errors  # noqa: B018 - cleans the form first, so the refusal joins its errors
        form.add_error(None, message)
        self._renew_token()

    def _renew_token(self) -> None:
        form = cast(forms.BaseForm, self)
        data = cast(QueryDict, form.data).copy()
        data["form_token"] = new_form_token()
        form.data = data

    def clean(self) -> dict[str, Any]:
        cleaned: dict[str, Any] = super().clean() or {}  # type: ignore[misc]
        if self.token_missing:
            cast(forms.BaseForm, self).add_error(None, FORM_EXPIRED_MESSAGE)
        return cleaned


def posted_form_token(data: QueryDict) -> str:
    """The token a post carries, cut as the field would cut it; "" when there is none."""
    return str(data.get("form_token", "")).strip()[:FORM_TOKEN_MAX_LENGTH]
