"""Cards on file, inside a practice's schema. Only Stripe ids and what a client needs to
recognise a card (brand, last four digits, expiry) are kept; card numbers never reach us."""

import datetime
from calendar import monthrange

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
