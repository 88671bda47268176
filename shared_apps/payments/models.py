"""Stripe Connect, platform side: connected accounts and webhook intake (public schema)."""

from django.db import models

from tenants.models import Practice


class StripeAccount(models.Model):
    """A practice's connected Stripe account. We keep its id and status, never its keys.

    The status fields mirror Stripe's Account object as last retrieved; they are refreshed
    from Stripe (never from a webhook payload), so the latest retrieval always wins.
    """

    id = models.BigAutoField(primary_key=True)
    practice = models.OneToOneField(
        Practice, on_delete=models.CASCADE, related_name="stripe_account"
    )
    account_id = models.CharField(max_length=255, unique=True)
    charges_enabled = models.BooleanField(default=False)
    payouts_enabled = models.BooleanField(default=False)
    details_submitted = models.BooleanField(default=False)
    # Stripe's `requirements.currently_due` + `past_due`: field names such as
    # "external_account" or "individual.verification.document".
    requirements_due = models.JSONField(default=list, blank=True)
    disabled_reason = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return self.account_id

    @property
    def is_ready_for_cards(self) -> bool:
        return self.charges_enabled


class WebhookEvent(models.Model):
    """A Stripe event whose signature verified. The unique event id makes a redelivery a no-op."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        PROCESSED = "processed", "Processed"
        IGNORED = "ignored", "Ignored"

    id = models.BigAutoField(primary_key=True)
    event_id = models.CharField(max_length=255, unique=True)
    type = models.CharField(max_length=255)
    account_id = models.CharField(max_length=255, blank=True)
    # The id of the event's `data.object` (pi_..., ch_..., seti_...): what a handler reads back.
    object_id = models.CharField(max_length=255, blank=True)
    practice = models.ForeignKey(
        Practice, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    # Why an event was ignored (e.g. "unknown_account", "unhandled_type").
    note = models.CharField(max_length=64, blank=True)
    received_at = models.DateTimeField(auto_now_add=True)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["account_id", "received_at"])]

    def __str__(self) -> str:
        return self.event_id


class RejectedWebhook(models.Model):
    """A delivery whose signature did not verify. Kept apart from `WebhookEvent` so that a
    forged request cannot occupy a real event id and make the genuine delivery a no-op."""

    id = models.BigAutoField(primary_key=True)
    received_at = models.DateTimeField(auto_now_add=True)
    reason = models.CharField(max_length=64)
    remote_addr = models.GenericIPAddressField(null=True, blank=True)
    body_bytes = models.PositiveIntegerField()

    def __str__(self) -> str:
        return f"{self.reason} at {self.received_at:%Y-%m-%d %H:%M:%S}"
