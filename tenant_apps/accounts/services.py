"""Writes for accounts: invitations, password resets and sign-in bookkeeping."""

import logging
import secrets
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.http import HttpRequest

from tenant_apps.accounts.models import STAFF_ROLES, Role, User, normalize_email
from tenant_apps.audit.services import record_event
from tenant_apps.mail.services import queue_email
from tenants.schemas import connection

logger = logging.getLogger(__name__)

STAFF_INVITATION = "staff_invitation"
PASSWORD_RESET = "password_reset"
EMAIL_IN_USE_MESSAGE = "Someone at this practice already uses this email address."


def invite_staff_member(user: User, *, actor: Any) -> None:
    """Email a staff member a link to set their password and sign in at /practice/."""
    assert user.role in STAFF_ROLES
    queue_email(
        kind=STAFF_INVITATION,
        key=f"{STAFF_INVITATION}:{user.pk}:{secrets.token_hex(6)}",
        recipient=user,
    )
    record_event(actor, "account.invited", target=user)


def request_password_reset(email: str, *, staff: bool) -> None:
    """Queue a reset email if an active account of that kind exists; silent otherwise, so the
    answer never tells whether an address has an account."""
    roles = STAFF_ROLES if staff else {Role.CLIENT}
    user = User.objects.filter(email=normalize_email(email), is_active=True, role__in=roles).first()
    if user is None:
        logger.debug("Password reset asked for an unknown address in %s", connection.schema_name)
        return
    queue_email(
        kind=PASSWORD_RESET,
        key=f"{PASSWORD_RESET}:{user.pk}:{secrets.token_hex(6)}",
        recipient=user,
    )
    record_event(None, "account.password_reset_requested", target=user)


def record_password_set(user: User, *, request: HttpRequest) -> None:
    """Django's set-password form saved the password; the audit trail notes it."""
    record_event(user, "account.password_set", target=user, request=request)


def add_staff_member(*, actor: User, full_name: str, email: str, role: str) -> User:
    """Create a staff account without a password and email its invitation."""
    if role not in STAFF_ROLES:
        raise ValidationError("Choose a staff role.")
    email = normalize_email(email)
    if User.objects.filter(email=email).exists():
        raise ValidationError(EMAIL_IN_USE_MESSAGE)
    try:
        with transaction.atomic():
            user = User.objects.create_user(email, full_name=full_name, role=role)
    except IntegrityError as error:
        # Added at the same moment by another request (a double click) after the check.
        raise ValidationError(EMAIL_IN_USE_MESSAGE) from error
    invite_staff_member(user, actor=actor)
    return user
