"""The one place that builds a Stripe client, so every call uses the configured key and base.

Calls for a practice go through `connected_options(account_id)`, which sets the
`Stripe-Account` header; only Connect management (creating accounts, onboarding links,
reading an account's status) is made as the platform itself.
"""

import stripe
from django.conf import settings

# Telemetry headers report request latencies back to Stripe; nothing here needs them.
stripe.enable_telemetry = False


def platform_client() -> stripe.StripeClient:
    """A client authenticated with the platform's secret key (settings.STRIPE_SECRET_KEY)."""
    base = settings.STRIPE_API_BASE
    addresses: stripe._base_address.BaseAddresses = {"api": base} if base else {}
    return stripe.StripeClient(
        settings.STRIPE_SECRET_KEY, base_addresses=addresses, max_network_retries=2
    )


def connected_options(account_id: str) -> stripe.RequestOptions:
    """Request options that make a call on the practice's connected account."""
    if not account_id.startswith("acct_"):
        raise ValueError("a connected account id starts with acct_")
    return {"stripe_account": account_id}
