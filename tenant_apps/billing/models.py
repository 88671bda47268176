"""Billing: services and fees, the practice's billing identity, the ledger and its documents.

Every amount is an integer count of minor units in the practice's currency (`currency` is
copied onto each row, so a row is readable on its own). A client's balance is the sum of their
ledger entries and nothing else; invoice totals are computed by the server from their lines.
"""

import secrets
from typing import Any, ClassVar

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from tenant_apps.billing import codes
from tenant_apps.billing.money import apply_rate
from tenant_apps.clients.models import Client


class Service(models.Model):
    """Something the practice bills for, with its usual fee."""

    name = models.CharField(max_length=120)
    default_duration_minutes = models.PositiveSmallIntegerField(
        default=50, validators=[MinValueValidator(1), MaxValueValidator(24 * 60)]
    )
    fee = models.BigIntegerField(validators=[MinValueValidator(0)])
    cpt_code = models.CharField("CPT code", max_length=5, validators=[codes.check_cpt])
    taxable = models.BooleanField(default=False)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering: ClassVar = ["name", "id"]
        constraints: ClassVar = [
            models.CheckConstraint(condition=models.Q(fee__gte=0), name="billing_service_fee_gte_0")
        ]

    def __str__(self) -> str:
        return self.name


class BillingProfile(models.Model):
    """The practice's billing identity; one row per practice schema (pk 1).

    The tax id is stored encrypted (billing.crypto), with its last four digits in clear for
    masked display.
    """

    class TaxIdKind(models.TextChoices):
        EIN = "ein", "EIN"
        SSN = "ssn", "SSN"

    legal_name = models.CharField(max_length=200, blank=True)
    tax_id_kind = models.CharField(max_length=3, choices=TaxIdKind.choices, default="ein")
    tax_id_encrypted = models.TextField(blank=True)
    tax_id_last4 = models.CharField(max_length=4, blank=True)
    npi_individual = models.CharField("individual NPI (type 1)", max_length=10, blank=True)
    npi_organization = models.CharField("organisation NPI (type 2)", max_length=10, blank=True)
    taxonomy_code = models.CharField(max_length=10, blank=True)
    tax_rate_basis_points = models.PositiveIntegerField(
        "tax rate (basis points)",
        default=0,
        validators=[MaxValueValidator(10000)],
        help_text="Applied to taxable services; 825 is 8.25%.",
    )
    payment_terms_days = models.PositiveSmallIntegerField(
        default=30, validators=[MaxValueValidator(365)]
    )
    monthly_statements_enabled = models.BooleanField(
        "send monthly statements automatically", default=False
    )
    statement_day = models.PositiveSmallIntegerField(
        "day of the month",
        default=1,
        validators=[MinValueValidator(1), MaxValueValidator(28)],
        help_text="Statements for the previous month go out at midnight on this day.",
    )
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return "Billing profile"

    @classmethod
    def load(cls) -> "BillingProfile":
        profile, _ = cls.objects.get_or_create(pk=1)
        return profile


class Location(models.Model):
    """Where services happen, with the place-of-service code claims carry (02/10: telehealth)."""

    name = models.CharField(max_length=120)
    address_line1 = models.CharField("address", max_length=200, blank=True)
    city = models.CharField(max_length=100, blank=True)
    region = models.CharField("state / region", max_length=100, blank=True)
    postal_code = models.CharField(max_length=20, blank=True)
    place_of_service = models.CharField(max_length=2, validators=[codes.check_place_of_service])
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering: ClassVar = ["name", "id"]

    def __str__(self) -> str:
        return self.name


class ClientDiagnosis(models.Model):
    """A diagnosis code the clinician attached to a client, in claim order (`rank`)."""

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="diagnoses")
    code = models.CharField(max_length=8, validators=[codes.check_icd10])
    rank = models.PositiveSmallIntegerField()
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering: ClassVar = ["rank", "id"]
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["client", "code"], name="billing_diagnosis_unique"),
        ]

    def __str__(self) -> str:
        return f"Diagnosis #{self.pk}"

    @property
    def description(self) -> str:
        return codes.icd10_codes().get(self.code, "")


class Sequence(models.Model):
    """Gapless per-practice counters (invoice numbers), taken under a row lock."""

    name = models.CharField(max_length=32, unique=True)
    last_value = models.PositiveBigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.name}={self.last_value}"


# The most lines one invoice holds: a long month of sessions, and a bound on the documents.
MAX_INVOICE_LINES = 50


class Invoice(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        ISSUED = "issued", "Issued"
        PARTIALLY_PAID = "partially_paid", "Partially paid"
        PAID = "paid", "Paid"
        VOID = "void", "Void"

    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="invoices")
    number = models.PositiveIntegerField(null=True, blank=True, unique=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.DRAFT)
    currency = models.CharField(max_length=3)
    location = models.ForeignKey(Location, null=True, blank=True, on_delete=models.SET_NULL)
    # Computed by the server from the lines when the draft is saved, and again when it is
    # issued (at the tax rate of that day); never typed in.
    subtotal = models.BigIntegerField(default=0)
    tax = models.BigIntegerField(default=0)
    total = models.BigIntegerField(default=0)
    issued_at = models.DateTimeField(null=True, blank=True)
    due_date = models.DateField(null=True, blank=True)
    voided_at = models.DateTimeField(null=True, blank=True)
    void_reason = models.CharField(max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The one-time token of the workspace form that made this row: the same form sent again
    # finds it instead of making a twin (tenant_apps/practice/form_tokens.py).
    form_token = models.CharField(
        max_length=64, blank=True, default="", db_default="", editable=False
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering: ClassVar = ["-issued_at", "-id"]
        indexes: ClassVar = [models.Index(fields=["client", "status"])]
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["form_token"],
                condition=~models.Q(form_token=""),
                name="billing_invoice_form_token_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"Invoice {self.number}" if self.number else f"Draft invoice #{self.pk}"

    @property
    def label(self) -> str:
        return f"Invoice {self.number}" if self.number else "Draft invoice"

    @property
    def is_open(self) -> bool:
        return self.status in (self.Status.ISSUED, self.Status.PARTIALLY_PAID)


class InvoiceLine(models.Model):
    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="lines")
    service = models.ForeignKey(Service, null=True, blank=True, on_delete=models.SET_NULL)
    description = models.CharField(max_length=200)
    cpt_code = models.CharField(max_length=5, blank=True)
    modifiers = models.CharField(max_length=20, blank=True)
    date_of_service = models.DateField()
    units = models.PositiveSmallIntegerField(default=1, validators=[MinValueValidator(1)])
    unit_fee = models.BigIntegerField(validators=[MinValueValidator(0)])
    # A reduction of this line (a sliding-scale discount, say), with its reason.
    adjustment = models.BigIntegerField(default=0, validators=[MinValueValidator(0)])
    adjustment_reason = models.CharField(max_length=120, blank=True)
    taxable = models.BooleanField(default=False)
    place_of_service = models.CharField(max_length=2, blank=True)

    class Meta:
        ordering: ClassVar = ["date_of_service", "id"]
        constraints: ClassVar = [
            models.CheckConstraint(
                condition=models.Q(unit_fee__gte=0, adjustment__gte=0, units__gte=1),
                name="billing_line_amounts_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"Line #{self.pk}"

    @property
    def gross(self) -> int:
        return self.units * self.unit_fee

    @property
    def amount(self) -> int:
        return self.gross - self.adjustment

    def tax_at(self, basis_points: int) -> int:
        return apply_rate(self.amount, basis_points) if self.taxable else 0


class Payment(models.Model):
    """Money received from a client. It may be applied to invoices; what is not applied stays
    on the client's account as credit.

    Card payments (a later issue) arrive as PaymentIntents on the practice's connected Stripe
    account: the webhook records a Payment with method CARD and the intent id, which is unique,
    so a redelivered event cannot record it twice. A refund becomes its own ledger entry that
    adds back to the balance, linked to this payment.
    """

    class Method(models.TextChoices):
        CARD = "card", "Card"
        CASH = "cash", "Cash"
        CHECK = "check", "Check"
        OTHER = "other", "Other"

    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="payments")
    method = models.CharField(max_length=8, choices=Method.choices)
    amount = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    received_at = models.DateTimeField()
    reference = models.CharField(max_length=80, blank=True, help_text="Check number, say.")
    stripe_payment_intent_id = models.CharField(max_length=255, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The one-time token of the workspace form that made this row: the same form sent again
    # finds it instead of making a twin (tenant_apps/practice/form_tokens.py).
    form_token = models.CharField(
        max_length=64, blank=True, default="", db_default="", editable=False
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering: ClassVar = ["-received_at", "-id"]
        constraints: ClassVar = [
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="billing_payment_gt_0"),
            models.UniqueConstraint(
                fields=["form_token"],
                condition=~models.Q(form_token=""),
                name="billing_payment_form_token_unique",
            ),
            models.UniqueConstraint(
                fields=["stripe_payment_intent_id"],
                condition=~models.Q(stripe_payment_intent_id=""),
                name="billing_payment_intent_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"Payment #{self.pk}"


class PaymentApplication(models.Model):
    """Part of a payment applied to an invoice. Negative rows reverse an application (when an
    invoice is voided the money returns to credit); rows are never edited or deleted.

    `applied_at` is when the application takes effect for statements: not before the payment
    arrived nor before the invoice was issued.
    """

    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="applications")
    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="applications")
    amount = models.BigIntegerField()
    applied_at = models.DateTimeField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering: ClassVar = ["applied_at", "id"]

    def __str__(self) -> str:
        return f"Application #{self.pk}"


class Refund(models.Model):
    """Money given back on a card payment, on the practice's connected Stripe account.

    Our row comes first: its id is in the idempotency key of the Stripe call, so a retried or
    double-submitted request makes one refund. A refund made outside the app (in the Stripe
    dashboard) arrives through the `charge.refunded` webhook and gets a row here too; the
    unique Stripe id keeps it to one. Only a succeeded or pending refund reaches the ledger.
    """

    class Status(models.TextChoices):
        REQUESTED = "requested", "Requested"  # our row exists, Stripe has not answered yet
        PENDING = "pending", "Pending"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"
        CANCELED = "canceled", "Canceled"

    ACTIVE: ClassVar = (Status.REQUESTED, Status.PENDING, Status.SUCCEEDED)

    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="refunds")
    amount = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    reason = models.CharField(max_length=200, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.REQUESTED)
    stripe_refund_id = models.CharField(max_length=255, blank=True)
    # The refund form's one-time token: the same form submitted twice finds this row.
    request_key = models.CharField(max_length=64, null=True, blank=True, unique=True)
    failure_note = models.CharField(max_length=200, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    refunded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering: ClassVar = ["-created_at", "-id"]
        constraints: ClassVar = [
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="billing_refund_gt_0"),
            models.UniqueConstraint(
                fields=["stripe_refund_id"],
                condition=~models.Q(stripe_refund_id=""),
                name="billing_refund_stripe_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"Refund #{self.pk}"

    @property
    def is_active(self) -> bool:
        return self.status in self.ACTIVE


class Dispute(models.Model):
    """A client's bank contesting a card payment (a Stripe Dispute on the payment's charge).
    Status and amount mirror the Dispute object as last read back from Stripe."""

    payment = models.ForeignKey(
        Payment, null=True, blank=True, on_delete=models.PROTECT, related_name="disputes"
    )
    stripe_dispute_id = models.CharField(max_length=255, unique=True)
    stripe_charge_id = models.CharField(max_length=255)
    amount = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    status = models.CharField(max_length=32)
    # Stripe's reason code ("fraudulent", "product_not_received"...), not the client's words.
    reason = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering: ClassVar = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"Dispute #{self.pk}"

    @property
    def is_open(self) -> bool:
        return self.status not in ("won", "lost", "warning_closed")


class LedgerEntry(models.Model):
    """One signed movement of a client's balance. Positive entries are what the client owes
    (an issued invoice, a refund of their payment); negative ones reduce it (payments,
    write-offs, voids)."""

    class Kind(models.TextChoices):
        CHARGE = "charge", "Invoice"
        PAYMENT = "payment", "Payment"
        WRITE_OFF = "write_off", "Write-off"
        VOID = "void", "Void"
        REFUND = "refund", "Refund"

    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="ledger_entries")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    amount = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    occurred_at = models.DateTimeField()
    invoice = models.ForeignKey(
        Invoice, null=True, blank=True, on_delete=models.PROTECT, related_name="ledger_entries"
    )
    payment = models.ForeignKey(
        Payment, null=True, blank=True, on_delete=models.PROTECT, related_name="ledger_entries"
    )
    # A refund reaches the ledger once: this link is unique.
    refund = models.OneToOneField(
        Refund, null=True, blank=True, on_delete=models.PROTECT, related_name="ledger_entry"
    )
    reason = models.CharField(max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering: ClassVar = ["occurred_at", "id"]
        indexes: ClassVar = [models.Index(fields=["client", "occurred_at"])]
        constraints: ClassVar = [
            models.CheckConstraint(
                condition=(
                    models.Q(kind__in=["charge", "refund"], amount__gt=0)
                    | models.Q(kind__in=["payment", "write_off", "void"], amount__lt=0)
                ),
                name="billing_ledger_sign_by_kind",
            ),
        ]

    def __str__(self) -> str:
        return f"Ledger entry #{self.pk}"


def document_upload_to(instance: "BillingDocument", filename: str) -> str:
    """A per-practice prefix and a random key; never the client's name or the document's kind."""
    from tenants.schemas import connection

    return f"billing/{connection.schema_name}/{secrets.token_urlsafe(24)}.pdf"


class BillingDocument(models.Model):
    """An invoice, statement or superbill as the client receives it: an immutable snapshot of
    its content (`snapshot`), rendered to PDF once and kept. Later edits to the client or the
    practice change new documents only."""

    class Kind(models.TextChoices):
        INVOICE = "invoice", "Invoice"
        STATEMENT = "statement", "Statement"
        SUPERBILL = "superbill", "Superbill"

    kind = models.CharField(max_length=16, choices=Kind.choices)
    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="billing_documents")
    invoice = models.OneToOneField(
        Invoice, null=True, blank=True, on_delete=models.PROTECT, related_name="document"
    )
    title = models.CharField(max_length=120)
    period_start = models.DateField(null=True, blank=True)
    period_end = models.DateField(null=True, blank=True)
    # Makes generation idempotent: one monthly statement per client and period.
    key = models.CharField(max_length=100, unique=True, null=True, blank=True)
    snapshot = models.JSONField()
    pdf = models.FileField(upload_to=document_upload_to, blank=True)
    pdf_pages = models.PositiveSmallIntegerField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # Visible in the client's portal from this moment (when it was sent).
    shared_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering: ClassVar = ["-created_at", "-id"]
        indexes: ClassVar = [models.Index(fields=["client", "shared_at"])]

    def __str__(self) -> str:
        return f"Billing document #{self.pk}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None and kwargs.get("update_fields") is None:
            raise ValueError("Billing documents are immutable; save with update_fields")
        super().save(*args, **kwargs)


class BillingRun(models.Model):
    """A batch of monthly statements for one period, with its progress and final report."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        FINISHED = "finished", "Finished"
        FAILED = "failed", "Failed"

    period_start = models.DateField()
    period_end = models.DateField()
    automatic = models.BooleanField(default=False)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    # How far the run is, over all of the practice's clients. The report's counts cannot show
    # it: they count only the clients that get a statement, batch by batch, so `processed`
    # equals `total` whenever a batch has been saved.
    clients_total = models.PositiveIntegerField(default=0, db_default=0)
    clients_checked = models.PositiveIntegerField(default=0, db_default=0)
    total = models.PositiveIntegerField(default=0)
    processed = models.PositiveIntegerField(default=0)
    sent = models.PositiveIntegerField(default=0)
    skipped = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    # [{"client": id, "outcome": "sent"|"skipped"|"failed", "reason": "..."}]; ids only.
    report = models.JSONField(default=list)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering: ClassVar = ["-created_at", "-id"]
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["period_start"],
                condition=models.Q(automatic=True),
                name="billing_one_automatic_run_per_period",
            ),
        ]

    def __str__(self) -> str:
        return f"Billing run #{self.pk}"

    @property
    def is_done(self) -> bool:
        return self.status in (self.Status.FINISHED, self.Status.FAILED)
