"""Cards on file, inside a practice's schema. Only Stripe ids and what a client needs to
recognise a card (brand, last four digits, expiry) are kept; card numbers never reach us."""

import datetime
import uuid
from calendar import monthrange

from django.conf import settings
from django.db import models

from tenant_apps.clients.models import Client

EXPIRY_WARNING_DAYS = 30


class StripeCustomer(models.Model):
    """The client's Customer on the practice's connected account. A practice that connects a
    different Stripe account gets new customers there: ids do not carry across accounts."""

    id = models.BigAutoField(primary_key=True)
    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="stripe_customers")
    account_id = models.CharField(max_length=255)
    customer_id = models.CharField(max_length=255, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["client", "account_id"], name="payments_one_customer_per_account"
            )
        ]

    def __str__(self) -> str:
        return self.customer_id


class SavedCard(models.Model):
    id = models.BigAutoField(primary_key=True)
    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="saved_cards")
    account_id = models.CharField(max_length=255)
    payment_method_id = models.CharField(max_length=255, unique=True)
    setup_intent_id = models.CharField(max_length=255, unique=True)
    brand = models.CharField(max_length=32)
    last4 = models.CharField(max_length=4)
    exp_month = models.PositiveSmallIntegerField()
    exp_year = models.PositiveSmallIntegerField()
    is_default = models.BooleanField(default=False)
    # When the client agreed that the practice may charge this card for what they owe.
    charges_authorized_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-is_default", "-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["client"],
                condition=models.Q(is_default=True),
                name="payments_one_default_card_per_client",
            )
        ]

    def __str__(self) -> str:
        return f"{self.brand} •••• {self.last4}"

    @property
    def expires_on(self) -> datetime.date:
        """A card works through the last day of its expiry month."""
        return datetime.date(
            self.exp_year, self.exp_month, monthrange(self.exp_year, self.exp_month)[1]
        )

    def is_expired_on(self, today: datetime.date) -> bool:
        return today > self.expires_on

    def expires_soon_on(self, today: datetime.date) -> bool:
        """Expired, or expiring within the next 30 days of `today` (the practice's date)."""
        return self.expires_on - today <= datetime.timedelta(days=EXPIRY_WARNING_DAYS)


class PaymentAttempt(models.Model):
    """One try at paying by card: what is being paid, on which account, and how it went.

    The amount and the invoices are fixed by the server when the attempt starts, from the
    ledger. The attempt's `key` makes the Stripe idempotency key, so a retried create call
    returns the same PaymentIntent; at most one attempt per client is open at a time, which is
    what turns a double submit into one charge.
    """

    class Scope(models.TextChoices):
        BALANCE = "balance", "Whole balance"
        INVOICES = "invoices", "Chosen invoices"
        PARTIAL = "partial", "Part of the balance"

    class Status(models.TextChoices):
        STARTED = "started", "Started"
        REQUIRES_ACTION = "requires_action", "Needs the bank's confirmation"
        PROCESSING = "processing", "Processing"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"
        CANCELED = "canceled", "Canceled"

    OPEN_STATUSES = (Status.STARTED, Status.REQUIRES_ACTION, Status.PROCESSING)

    id = models.BigAutoField(primary_key=True)
    key = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    # The one-time token of the form that started it: the same form posted twice finds this
    # attempt again, even after it succeeded, instead of paying a second time.
    form_token = models.CharField(max_length=64, blank=True)
    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="payment_attempts")
    scope = models.CharField(max_length=16, choices=Scope.choices)
    amount = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    invoices = models.ManyToManyField("billing.Invoice", blank=True, related_name="+")
    account_id = models.CharField(max_length=255)
    payment_intent_id = models.CharField(max_length=255, unique=True, null=True, blank=True)
    saved_card = models.ForeignKey(
        SavedCard, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    off_session = models.BooleanField(default=False)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.STARTED)
    # Fit to show the client: Stripe's decline message or ours; never anything clinical.
    failure_message = models.CharField(max_length=255, blank=True)
    payment = models.OneToOneField(
        "billing.Payment", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(amount__gt=0), name="payments_attempt_amount_gt_0"
            ),
            models.UniqueConstraint(
                fields=["client"],
                condition=models.Q(status__in=["started", "requires_action", "processing"]),
                name="payments_one_open_attempt_per_client",
            ),
            models.UniqueConstraint(
                fields=["client", "form_token"],
                condition=~models.Q(form_token=""),
                name="payments_attempt_form_token_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"Payment attempt #{self.pk}"

    @property
    def idempotency_key(self) -> str:
        return f"payment-attempt-{self.key}"

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES
