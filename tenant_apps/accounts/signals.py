"""Every sign-in and failed sign-in goes to the audit trail of the schema it happened in."""

from typing import Any

from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.http import HttpRequest

from tenant_apps.accounts.models import User, normalize_email
from tenant_apps.audit.services import record_event


def _signed_in(sender: Any, request: HttpRequest, user: User, **kwargs: Any) -> None:
    record_event(user, "account.signed_in", target=user, request=request)


def _sign_in_failed(
    sender: Any, credentials: dict[str, Any], request: HttpRequest | None = None, **kwargs: Any
) -> None:
    email = normalize_email(str(credentials.get("username") or ""))
    known = User.objects.filter(email=email).first() if email else None
    record_event(None, "account.sign_in_failed", target=known, request=request)


def connect() -> None:
    user_logged_in.connect(_signed_in, dispatch_uid="audit-signed-in")
    user_login_failed.connect(_sign_in_failed, dispatch_uid="audit-sign-in-failed")
