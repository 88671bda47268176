from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.http import HttpRequest

from tenant_apps.accounts import user_cache
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

    def get_user(self, user_id: Any) -> Any:
        """The signed-in user of a request, from the cache while it is current
        (tenant_apps/accounts/user_cache.py); inactive users are refused as before."""
        user = user_cache.cached_user(user_id, lambda: self._load_user(user_id))
        return user if user is not None and self.user_can_authenticate(user) else None

    def _load_user(self, user_id: Any) -> Any:
        UserModel = get_user_model()
        try:
            return UserModel._default_manager.get(pk=user_id)
        except UserModel.DoesNotExist:
            return None


def axes_username(request: HttpRequest, credentials: dict[str, Any] | None) -> str:
    """Lockout counts failures per address regardless of its case."""
    raw = (credentials or {}).get("username") or request.POST.get("username", "")
    return normalize_email(str(raw))
