"""Webhook handlers for card payments. Each reads the PaymentIntent back from Stripe (through
`charging.settle_intent`), so a duplicate, a late or a reordered event changes nothing that
the PaymentIntent's current state does not say."""

from shared_apps.payments.handlers import handles
from tenant_apps.payments import charging


@handles(
    "payment_intent.succeeded",
    "payment_intent.payment_failed",
    "payment_intent.requires_action",
    "payment_intent.processing",
    "payment_intent.canceled",
)
def payment_intent_changed(payment_intent_id: str, account_id: str) -> str:
    if not payment_intent_id.startswith("pi_"):
        return "not_a_payment_intent"
    return charging.settle_intent(payment_intent_id, account_id)
