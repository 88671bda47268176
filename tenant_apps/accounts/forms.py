from django import forms
from django.contrib.auth.forms import AuthenticationForm

from tenant_apps.accounts.models import STAFF_ROLES, Role, User


class _RoleSignInForm(AuthenticationForm):
    """Sign-in that accepts only the roles of one area. A valid password for the wrong area
    gets the same message as a wrong password."""

    allowed_roles: frozenset[str] = frozenset()
    error_messages = {
        **AuthenticationForm.error_messages,
        # Email addresses are matched whatever their case; only the password is exact.
        "invalid_login": "Please enter a correct email and password. The password is "
        "case-sensitive.",
    }

    username = forms.EmailField(
        label="Email",
        widget=forms.EmailInput(attrs={"autocomplete": "email", "autofocus": True}),
    )

    def confirm_login_allowed(self, user: User) -> None:  # type: ignore[override]
        super().confirm_login_allowed(user)
        if user.role not in self.allowed_roles:
            raise self.get_invalid_login_error()


class StaffSignInForm(_RoleSignInForm):
    allowed_roles = frozenset(STAFF_ROLES)


class ClientSignInForm(_RoleSignInForm):
    allowed_roles = frozenset({Role.CLIENT})


class PasswordResetRequestForm(forms.Form):
    email = forms.EmailField(widget=forms.EmailInput(attrs={"autocomplete": "email"}))
