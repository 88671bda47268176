from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.http import HttpRequest

from tenant_apps.accounts.models import normalize_email


class EmailBackend(ModelBackend):
    """Email and password, matched case-insensitively, in the schema of the current host."""

    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> Any:
        if username is not None:
            username = normalize_email(username)
        return super().authenticate(request, username=username, password=password, **kwargs)


def axes_username(request: HttpRequest, credentials: dict[str, Any] | None) -> str:
    """Lockout counts failures per address regardless of its case."""
    raw = (credentials or {}).get("username") or request.POST.get("username", "")
    return normalize_email(str(raw))
