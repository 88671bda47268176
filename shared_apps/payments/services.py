"""Connecting a practice's Stripe account (Stripe Connect, Account Links onboarding).

The platform keeps only the connected account's id and the status Stripe reports for it.
Every status write comes from an Account object retrieved from Stripe, never from a request
or a webhook payload, so a stale or replayed event cannot move the status backwards.
"""

import logging
from typing import Any

from django.core.cache import cache
from django.db import transaction
from django_tenants.utils import schema_context

from shared_apps.payments.models import StripeAccount
from shared_apps.payments.stripe_api import platform_client
from tenant_apps.accounts.models import User
from tenant_apps.audit.services import record_event
from tenants import request_memo
from tenants.models import Practice

logger = logging.getLogger(__name__)

STATUS_CACHE_KEY = "payments:stripe-account-status"
STATUS_CACHE_SECONDS = 3600


def start_onboarding(practice: Practice, *, actor: User, return_url: str, refresh_url: str) -> str:
    """Return a Stripe-hosted onboarding URL for `practice`, creating its connected account
    first if it has none. The URL is single-use and short-lived: ask for a new one each time.

    The practice row is locked while the account is created so that two owners clicking
    "Connect" at once end up with one account, not two.
    """
    client = platform_client()
    with transaction.atomic():
        Practice.objects.select_for_update().filter(pk=practice.pk).first()
        stripe_account = StripeAccount.objects.filter(practice=practice).first()
        if stripe_account is None:
            account = client.v1.accounts.create(
                params={"type": "standard", "metadata": {"practice_id": str(practice.pk)}},
                options={"idempotency_key": f"connect-account-{practice.pk}"},
            )
            stripe_account = StripeAccount.objects.create(practice=practice, account_id=account.id)
            _apply_account(stripe_account, account)
            with schema_context(practice.schema_name):
                record_event(actor, "payments.stripe_account_created", target=stripe_account)
            logger.info("Created connected account %s", stripe_account.account_id)
            # The settings page the owner came from cached "not connected"; forget it, or the
            # return from onboarding would still find no account.
            transaction.on_commit(lambda: forget_cached_status(practice))

    link = client.v1.account_links.create(
        params={
            "account": stripe_account.account_id,
            "type": "account_onboarding",
            "return_url": return_url,
            "refresh_url": refresh_url,
        }
    )
    return str(link.url)


def refresh_account(practice: Practice) -> StripeAccount | None:
    """Read the connected account's status from Stripe and store it. None if not connected."""
    stripe_account = StripeAccount.objects.filter(practice=practice).first()
    if stripe_account is None:
        return None
    account = platform_client().v1.accounts.retrieve(stripe_account.account_id)
    with transaction.atomic():
        locked = StripeAccount.objects.select_for_update().get(pk=stripe_account.pk)
        _apply_account(locked, account)
        # After commit: dropped earlier, a concurrent reader could cache the old row again.
        transaction.on_commit(lambda: forget_cached_status(practice))
    return locked


def disconnect(practice: Practice, *, actor: User) -> None:
    """Forget the practice's connected account. The Stripe account itself stays the
    practice's own: a Standard account is not ours to delete."""
    with transaction.atomic():
        stripe_account = StripeAccount.objects.select_for_update().filter(practice=practice).first()
        if stripe_account is None:
            return
        account_id = stripe_account.account_id
        stripe_account.delete()
        with schema_context(practice.schema_name):
            record_event(actor, "payments.stripe_account_disconnected", account=account_id)
    transaction.on_commit(lambda: forget_cached_status(practice))
    logger.info("Disconnected connected account %s", account_id)


def forget_cached_status(practice: Practice) -> None:
    # Cache keys carry the active schema (django_tenants.cache.make_key), so delete from the
    # practice's schema whichever schema the caller is on.
    with schema_context(practice.schema_name):
        cache.delete(STATUS_CACHE_KEY)
    request_memo.forget(STATUS_CACHE_KEY, schema=practice.schema_name)


def _apply_account(stripe_account: StripeAccount, stripe_object: Any) -> None:
    account: dict[str, Any] = stripe_object.to_dict()
    requirements = account.get("requirements") or {}
    due = sorted(
        set(requirements.get("currently_due") or []) | set(requirements.get("past_due") or [])
    )
    stripe_account.charges_enabled = bool(account.get("charges_enabled"))
    stripe_account.payouts_enabled = bool(account.get("payouts_enabled"))
    stripe_account.details_submitted = bool(account.get("details_submitted"))
    stripe_account.requirements_due = due
    stripe_account.disabled_reason = requirements.get("disabled_reason") or ""
    stripe_account.save(
        update_fields=[
            "charges_enabled",
            "payouts_enabled",
            "details_submitted",
            "requirements_due",
            "disabled_reason",
            "updated_at",
        ]
    )
