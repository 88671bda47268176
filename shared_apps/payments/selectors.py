"""Reads about a practice's Stripe connection."""

from dataclasses import dataclass

from django.core.cache import cache
from django_tenants.utils import schema_context

from shared_apps.payments.models import StripeAccount
from shared_apps.payments.services import STATUS_CACHE_KEY, STATUS_CACHE_SECONDS
from tenants import request_memo
from tenants.models import Practice


@dataclass(frozen=True)
class ConnectionStatus:
    connected: bool
    account_id: str = ""
    charges_enabled: bool = False
    payouts_enabled: bool = False
    details_submitted: bool = False
    requirements_due: tuple[str, ...] = ()
    disabled_reason: str = ""

    @property
    def cards_available(self) -> bool:
        """Whether clients may see card features: only once Stripe lets the account charge."""
        return self.connected and self.charges_enabled


def connection_status(practice: Practice) -> ConnectionStatus:
    """The practice's Stripe status as last stored, cached per practice (services invalidate)
    and read once per request (the portal's menu and its home both ask)."""
    return request_memo.remembered(
        STATUS_CACHE_KEY, lambda: _connection_status(practice), schema=practice.schema_name
    )


def _connection_status(practice: Practice) -> ConnectionStatus:
    with schema_context(practice.schema_name):
        cached = request_memo.cache_get(STATUS_CACHE_KEY)
    if isinstance(cached, ConnectionStatus):
        return cached
    account = StripeAccount.objects.filter(practice=practice).first()
    status = (
        ConnectionStatus(connected=False)
        if account is None
        else ConnectionStatus(
            connected=True,
            account_id=account.account_id,
            charges_enabled=account.charges_enabled,
            payouts_enabled=account.payouts_enabled,
            details_submitted=account.details_submitted,
            requirements_due=tuple(account.requirements_due),
            disabled_reason=account.disabled_reason,
        )
    )
    with schema_context(practice.schema_name):
        cache.set(STATUS_CACHE_KEY, status, STATUS_CACHE_SECONDS)
    return status
