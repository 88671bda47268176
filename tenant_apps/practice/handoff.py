"""Carry a signed-in staff member across a change of the practice's host.

Session cookies are host-only, so after the portal address changes the browser holds no
session for the new host. The old host signs a token naming the user and the schema; the
new host accepts it once, within a minute, for the same schema only.
"""

import secrets
from dataclasses import dataclass

from django.contrib.auth import login
from django.core import signing
from django.core.cache import cache
from django.http import HttpRequest
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme

from tenant_apps.accounts.models import User
from tenants.hosts import practice_url
from tenants.models import Practice
from tenants.schemas import connection

SALT = "practice-host-handoff"
MAX_AGE_SECONDS = 60


@dataclass(frozen=True)
class Arrival:
    next_path: str
    notice: str  # the confirmation the old host would have shown; "" for none


def handoff_url(practice: Practice, user: User, *, next_path: str, notice: str = "") -> str:
    """The link that signs `user` in at the practice's current host. `notice` travels with
    it, since the old host's session (and its messages) stays behind."""
    # The nonce keeps two handoffs of one user to one page within a second (two moves in a
    # row) from being the same token, which the first use would spend for both.
    payload = {
        "u": user.pk,
        "s": connection.schema_name,
        "n": next_path,
        "m": notice,
        "r": secrets.token_hex(8),
    }
    token = signing.dumps(payload, salt=SALT)
    return practice_url(practice, reverse("workspace:handoff", kwargs={"token": token}))


def accept_handoff(request: HttpRequest, token: str) -> Arrival | None:
    """Sign the user in and say where to go, or None when the token is not good here."""
    try:
        data = signing.loads(token, salt=SALT, max_age=MAX_AGE_SECONDS)
    except signing.BadSignature:
        return None
    if data.get("s") != connection.schema_name:
        return None
    # Single use: the first request to claim the token wins.
    if not cache.add(f"handoff:{token[-43:]}", 1, timeout=MAX_AGE_SECONDS * 2):
        return None
    user = User.objects.filter(pk=data.get("u"), is_active=True).first()
    if user is None or not user.is_practice_staff:
        return None
    login(request, user, backend="tenant_apps.accounts.backends.EmailBackend")
    next_path = data.get("n") or "/practice/"
    if not url_has_allowed_host_and_scheme(next_path, allowed_hosts=None):
        next_path = "/practice/"
    return Arrival(next_path=str(next_path), notice=str(data.get("m") or ""))
