"""Writes for billing: services, the billing profile, the ledger, documents and sending.

Ledger writes for a client lock that client's row first, so two requests recording payments
or voids for one client run one after the other; invoice rows are locked after it, in id order.
"""

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from tenant_apps.accounts.models import User
from tenant_apps.audit.services import record_event
from tenant_apps.billing import codes, crypto, selectors
from tenant_apps.billing.identifiers import normalize_tax_id
from tenant_apps.billing.models import (
    MAX_INVOICE_LINES,
    BillingDocument,
    BillingProfile,
    ClientDiagnosis,
    Invoice,
    InvoiceLine,
    LedgerEntry,
    Location,
    Payment,
    PaymentApplication,
    Refund,
    Service,
)
from tenant_apps.billing.models import (
    Sequence as NumberSequence,
)
from tenant_apps.billing.money import format_amount, max_amount
from tenant_apps.clients.models import Client
from tenant_apps.mail.services import queue_email
from tenants.models import Practice
from tenants.schemas import current_practice

logger = logging.getLogger(__name__)

DOCUMENT_READY = "billing_document_ready"


def _require_amount(value: object, *, what: str = "Amount") -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{what} must be integer minor units, not {type(value).__name__}")
    return value


def _locked_client(client: Client) -> Client:
    return Client.objects.select_for_update().get(pk=client.pk)


# Services, profile, locations, diagnoses -------------------------------------------------


def save_service(service: Service, *, actor: User) -> Service:
    creating = service.pk is None
    _require_amount(service.fee, what="Fee")
    service.cpt_code = codes.validate_cpt(service.cpt_code)
    service.save()
    record_event(actor, "billing.service_created" if creating else "billing.service_updated",
                 target=service)  # fmt: skip
    return service


def save_location(location: Location, *, actor: User) -> Location:
    creating = location.pk is None
    location.save()
    record_event(actor, "billing.location_saved", target=location, created=creating)
    return location


def save_billing_profile(
    profile: BillingProfile,
    *,
    actor: User,
    changed: Sequence[str],
    tax_id: str = "",
    currency: str | None = None,
) -> BillingProfile:
    """Save the profile; a new tax id is encrypted, and a currency change goes to the practice
    (refused once the ledger has entries in another currency)."""
    fields = [name for name in changed if name not in {"tax_id", "currency"}]
    if tax_id:
        digits = normalize_tax_id(tax_id, profile.tax_id_kind)
        profile.tax_id_encrypted = crypto.encrypt(digits)
        profile.tax_id_last4 = digits[-4:]
        fields += ["tax_id_encrypted", "tax_id_last4"]
    practice = current_practice()
    with transaction.atomic():
        if currency and currency != practice.currency:
            if LedgerEntry.objects.exclude(currency=currency).exists():
                raise ValidationError(
                    {"currency": "The currency cannot change once invoices or payments exist."}
                )
            Practice.objects.filter(pk=practice.pk).update(currency=currency)
            practice.currency = currency
            from tenants.hosts import forget_practice

            forget_practice(practice.pk)
            fields.append("currency")
        profile.save()
        record_event(actor, "billing.profile_updated", target=profile, fields=sorted(fields))
    return profile


def add_diagnosis(client: Client, *, actor: User, code: str) -> ClientDiagnosis:
    code = codes.validate_icd10(code)
    with transaction.atomic():
        locked = _locked_client(client)
        existing = list(locked.diagnoses.values_list("code", flat=True))
        if code in existing:
            raise ValidationError(f"{code} is already on this client's list.")
        if len(existing) >= codes.MAX_DIAGNOSES:
            raise ValidationError(f"A client can have at most {codes.MAX_DIAGNOSES} diagnoses.")
        diagnosis = ClientDiagnosis.objects.create(
            client=locked, code=code, rank=len(existing) + 1, added_by=actor
        )
        record_event(actor, "billing.diagnosis_added", target=locked)
    return diagnosis


def remove_diagnosis(diagnosis: ClientDiagnosis, *, actor: User) -> None:
    with transaction.atomic():
        client = _locked_client(diagnosis.client)
        diagnosis.delete()
        for rank, item in enumerate(client.diagnoses.order_by("rank", "id"), start=1):
            if item.rank != rank:
                item.rank = rank
                item.save(update_fields=["rank"])
        record_event(actor, "billing.diagnosis_removed", target=client)


# Invoices --------------------------------------------------------------------------------


@dataclass(frozen=True)
class LineInput:
    date_of_service: date
    unit_fee: int
    description: str = ""
    service: Service | None = None
    units: int = 1
    adjustment: int = 0
    adjustment_reason: str = ""
    modifiers: str = ""
    cpt_code: str = ""
    place_of_service: str = ""


def _compute_totals(invoice: Invoice, lines: Sequence[InvoiceLine], *, rate: int) -> None:
    """Set the invoice's subtotal, tax and total from its lines at the tax rate in basis points.

    A draft shows these; issuing computes them again, in case the rate changed meanwhile."""
    if len(lines) > MAX_INVOICE_LINES:
        raise ValidationError(f"An invoice can have at most {MAX_INVOICE_LINES} lines.")
    invoice.subtotal = sum(line.amount for line in lines)
    invoice.tax = sum(line.tax_at(rate) for line in lines)
    invoice.total = invoice.subtotal + invoice.tax
    if invoice.total > max_amount(invoice.currency):
        limit = format_amount(max_amount(invoice.currency), invoice.currency)
        raise ValidationError(f"An invoice can total at most {limit}.")


class AlreadySaved(Exception):
    """The form was sent before (by its one-time token); `earlier` is what it made then."""

    def __init__(self, earlier: Invoice | Payment) -> None:
        super().__init__(f"already saved as {earlier}")
        self.earlier = earlier


def create_invoice(
    client: Client,
    *,
    actor: User | None,
    lines: Iterable[LineInput],
    location: Location | None = None,
    form_token: str = "",
) -> Invoice:
    """A draft invoice with its totals; nothing reaches the ledger until it is issued.

    Raises AlreadySaved when an invoice of this client already carries `form_token`."""
    practice = current_practice()
    lines = list(lines)
    if not lines:
        raise ValidationError("Add at least one service to the invoice.")
    with transaction.atomic():
        if form_token:
            # The client's row lock queues a second submit of the same form behind the
            # first, which it then finds here once the first has committed.
            _locked_client(client)
            earlier = selectors.invoice_made_by_form(client, form_token)
            if earlier is not None:
                raise AlreadySaved(earlier)
        invoice = Invoice(
            client=client,
            currency=practice.currency,
            location=location,
            created_by=actor,
            form_token=form_token,
        )
        rows = [_line(invoice, item, location) for item in lines]
        _compute_totals(invoice, rows, rate=BillingProfile.load().tax_rate_basis_points)
        invoice.save()
        InvoiceLine.objects.bulk_create(rows)
        record_event(actor, "billing.invoice_created", target=invoice, client=client.pk)
    return invoice


def _line(invoice: Invoice, item: LineInput, location: Location | None) -> InvoiceLine:
    _require_amount(item.unit_fee, what="Fee")
    _require_amount(item.adjustment, what="Adjustment")
    if item.units < 1:
        raise ValidationError("Units must be at least 1.")
    if item.adjustment < 0 or item.unit_fee < 0:
        raise ValidationError("Fees and adjustments cannot be negative.")
    if item.adjustment > item.units * item.unit_fee:
        raise ValidationError("An adjustment cannot exceed the line's fee.")
    service = item.service
    cpt = item.cpt_code or (service.cpt_code if service else "")
    return InvoiceLine(
        invoice=invoice,
        service=service,
        description=item.description or (service.name if service else "Service"),
        cpt_code=codes.validate_cpt(cpt) if cpt else "",
        modifiers=codes.validate_modifiers(item.modifiers),
        date_of_service=item.date_of_service,
        units=item.units,
        unit_fee=item.unit_fee,
        adjustment=item.adjustment,
        adjustment_reason=item.adjustment_reason,
        taxable=service.taxable if service else False,
        place_of_service=item.place_of_service or (location.place_of_service if location else ""),
    )


def _next_number(name: str) -> int:
    sequence, _ = NumberSequence.objects.select_for_update().get_or_create(name=name)
    sequence.last_value += 1
    sequence.save(update_fields=["last_value"])
    return sequence.last_value


def issue_invoice(invoice: Invoice, *, actor: User | None) -> Invoice:
    """Number the invoice, compute its totals, charge the ledger and keep its document."""
    from tenant_apps.billing import documents

    profile = BillingProfile.load()
    now = timezone.now()
    with transaction.atomic():
        _locked_client(invoice.client)
        invoice = Invoice.objects.select_for_update().select_related("client").get(pk=invoice.pk)
        if invoice.status != Invoice.Status.DRAFT:
            raise ValidationError("Only a draft invoice can be issued.")
        _compute_totals(invoice, list(invoice.lines.all()), rate=profile.tax_rate_basis_points)
        if invoice.total <= 0:
            raise ValidationError("An invoice must total more than zero.")
        invoice.number = _next_number("invoice")
        invoice.status = Invoice.Status.ISSUED
        invoice.issued_at = now
        invoice.due_date = timezone.localdate(now, _zone()) + timedelta(
            days=profile.payment_terms_days
        )
        invoice.save(
            update_fields=["subtotal", "tax", "total", "number", "status", "issued_at", "due_date"]
        )
        LedgerEntry.objects.create(
            client=invoice.client,
            kind=LedgerEntry.Kind.CHARGE,
            amount=invoice.total,
            currency=invoice.currency,
            occurred_at=now,
            invoice=invoice,
            created_by=actor,
        )
        documents.create_invoice_document(invoice, actor=actor)
        record_event(actor, "billing.invoice_issued", target=invoice, number=invoice.number)
        selectors.forget_portal_summary(invoice.client)
    return invoice


def _zone():  # type: ignore[no-untyped-def]
    from zoneinfo import ZoneInfo

    return ZoneInfo(current_practice().time_zone)


def _refresh_status(invoice: Invoice) -> None:
    if invoice.status in (Invoice.Status.DRAFT, Invoice.Status.VOID):
        return
    due = selectors.invoice_balance_due(invoice)
    if due <= 0:
        status = Invoice.Status.PAID
    elif due < invoice.total:
        status = Invoice.Status.PARTIALLY_PAID
    else:
        status = Invoice.Status.ISSUED
    if status != invoice.status:
        invoice.status = status
        invoice.save(update_fields=["status"])


def void_invoice(invoice: Invoice, *, actor: User | None, reason: str) -> Invoice:
    """Void an invoice. An issued one leaves the ledger by a reversing entry, and payments
    applied to it return to the client's credit (by reversing applications)."""
    if not reason.strip():
        raise ValidationError("Give a reason for voiding the invoice.")
    now = timezone.now()
    with transaction.atomic():
        _locked_client(invoice.client)
        invoice = Invoice.objects.select_for_update().select_related("client").get(pk=invoice.pk)
        if invoice.status == Invoice.Status.VOID:
            raise ValidationError("This invoice is already void.")
        if invoice.status != Invoice.Status.DRAFT:
            remaining = selectors._sum(LedgerEntry.objects.filter(invoice=invoice))
            if remaining > 0:
                LedgerEntry.objects.create(
                    client=invoice.client,
                    kind=LedgerEntry.Kind.VOID,
                    amount=-remaining,
                    currency=invoice.currency,
                    occurred_at=now,
                    invoice=invoice,
                    reason=reason.strip(),
                    created_by=actor,
                )
            _reverse_applications(invoice, actor=actor, at=now)
        invoice.status = Invoice.Status.VOID
        invoice.voided_at = now
        invoice.void_reason = reason.strip()
        invoice.save(update_fields=["status", "voided_at", "void_reason"])
        record_event(actor, "billing.invoice_voided", target=invoice)
        selectors.forget_portal_summary(invoice.client)
    return invoice


def _reverse_applications(invoice: Invoice, *, actor: User | None, at: datetime) -> None:
    per_payment: dict[int, int] = {}
    for application in invoice.applications.all():
        per_payment[application.payment_id] = (
            per_payment.get(application.payment_id, 0) + application.amount
        )
    PaymentApplication.objects.bulk_create(
        PaymentApplication(
            payment_id=payment_id, invoice=invoice, amount=-amount, applied_at=at, created_by=actor
        )
        for payment_id, amount in sorted(per_payment.items())
        if amount
    )


def write_off(invoice: Invoice, *, actor: User | None, amount: int, reason: str) -> LedgerEntry:
    """Forgive part or all of what is due on an issued invoice."""
    _require_amount(amount)
    if not reason.strip():
        raise ValidationError("Give a reason for the write-off.")
    if amount <= 0:
        raise ValidationError("A write-off must be more than zero.")
    with transaction.atomic():
        _locked_client(invoice.client)
        invoice = Invoice.objects.select_for_update().select_related("client").get(pk=invoice.pk)
        if not invoice.is_open:
            raise ValidationError("Only an open invoice can be written off.")
        due = selectors.invoice_balance_due(invoice)
        if amount > due:
            raise ValidationError("A write-off cannot exceed what is due on the invoice.")
        entry = LedgerEntry.objects.create(
            client=invoice.client,
            kind=LedgerEntry.Kind.WRITE_OFF,
            amount=-amount,
            currency=invoice.currency,
            occurred_at=timezone.now(),
            invoice=invoice,
            reason=reason.strip(),
            created_by=actor,
        )
        _refresh_status(invoice)
        record_event(actor, "billing.invoice_written_off", target=invoice, amount=amount)
        selectors.forget_portal_summary(invoice.client)
    return entry


# Payments --------------------------------------------------------------------------------


def record_payment(
    client: Client,
    *,
    actor: User | None,
    method: str,
    amount: int,
    received_at: datetime,
    reference: str = "",
    applications: Sequence[tuple[Invoice, int]] = (),
    stripe_payment_intent_id: str = "",
    form_token: str = "",
) -> Payment:
    """Record money received and apply it to invoices; the rest stays as the client's credit.

    Raises AlreadySaved when a payment of this client already carries `form_token`."""
    _require_amount(amount)
    if amount <= 0:
        raise ValidationError("A payment must be more than zero.")
    if timezone.is_naive(received_at):
        raise ValueError("received_at must be aware")
    if method not in Payment.Method.values:
        raise ValidationError("Choose how the payment was made.")
    practice = current_practice()
    with transaction.atomic():
        locked = _locked_client(client)
        earlier = selectors.payment_made_by_form(locked, form_token)
        if earlier is not None:
            raise AlreadySaved(earlier)
        payment = Payment.objects.create(
            client=locked,
            method=method,
            amount=amount,
            currency=practice.currency,
            received_at=received_at,
            reference=reference,
            stripe_payment_intent_id=stripe_payment_intent_id,
            recorded_by=actor,
            form_token=form_token,
        )
        LedgerEntry.objects.create(
            client=locked,
            kind=LedgerEntry.Kind.PAYMENT,
            amount=-amount,
            currency=practice.currency,
            occurred_at=received_at,
            payment=payment,
            created_by=actor,
        )
        _apply(payment, applications, actor=actor)
        record_event(actor, "billing.payment_recorded", target=payment, amount=amount)
        selectors.forget_portal_summary(locked)
    return payment


def apply_credit(
    client: Client, *, actor: User | None, applications: Sequence[tuple[Invoice, int]]
) -> None:
    """Apply the client's unapplied credit (oldest payments first) to invoices."""
    with transaction.atomic():
        locked = _locked_client(client)
        wanted = sum(_require_amount(amount) for _, amount in applications)
        if wanted > selectors.unapplied_credit(locked):
            raise ValidationError("That is more than the client's unapplied credit.")
        remaining = list(applications)
        for payment in locked.payments.order_by("received_at", "id"):
            free = selectors.payment_unapplied(payment)
            take: list[tuple[Invoice, int]] = []
            while remaining and free > 0:
                invoice, amount = remaining[0]
                part = min(amount, free)
                take.append((invoice, part))
                free -= part
                if part == amount:
                    remaining.pop(0)
                else:
                    remaining[0] = (invoice, amount - part)
            if take:
                _apply(payment, take, actor=actor)
        record_event(actor, "billing.credit_applied", target=locked, amount=wanted)
        selectors.forget_portal_summary(locked)


def _apply(
    payment: Payment, applications: Sequence[tuple[Invoice, int]], *, actor: User | None
) -> None:
    applied = selectors._sum(payment.applications.all()) + selectors.payment_refunded(payment)
    for invoice, amount in sorted(applications, key=lambda item: item[0].pk):
        _require_amount(amount)
        if amount <= 0:
            continue
        locked = Invoice.objects.select_for_update().get(pk=invoice.pk)
        if locked.client_id != payment.client_id:
            raise ValidationError("A payment applies only to the same client's invoices.")
        if not locked.is_open:
            raise ValidationError(f"{locked.label} is not open for payment.")
        if amount > selectors.invoice_balance_due(locked):
            raise ValidationError(f"That is more than is due on {locked.label}.")
        applied += amount
        if applied > payment.amount:
            raise ValidationError("The amounts applied exceed the payment.")
        assert locked.issued_at is not None
        PaymentApplication.objects.create(
            payment=payment,
            invoice=locked,
            amount=amount,
            applied_at=max(payment.received_at, locked.issued_at),
            created_by=actor,
        )
        _refresh_status(locked)


def record_refund_entry(refund: Refund, *, actor: User | None, at: datetime) -> LedgerEntry:
    """Put a refund on the ledger, once, and take the money back out of the payment.

    The refunded amount comes first out of what the payment left unapplied (credit on the
    client's account); the rest reverses the payment's applications to invoices, newest
    first, and those invoices reopen (paid → partially paid → issued). The ledger entry is
    positive: the client owes that much again, or has that much less credit. Idempotent: a
    refund already on the ledger returns its entry.
    """
    with transaction.atomic():
        locked = _locked_client(refund.payment.client)
        existing = LedgerEntry.objects.filter(refund=refund).first()
        if existing is not None:
            return existing
        payment = refund.payment
        free = max(selectors.payment_unapplied(payment), 0)
        entry = LedgerEntry.objects.create(
            client=locked,
            kind=LedgerEntry.Kind.REFUND,
            amount=refund.amount,
            currency=refund.currency,
            occurred_at=at,
            payment=payment,
            refund=refund,
            reason=refund.reason,
            created_by=actor,
        )
        _unapply(payment, refund.amount - min(free, refund.amount), actor=actor, at=at)
        record_event(actor, "billing.refund_recorded", target=refund, payment=payment.pk,
                     amount=refund.amount)  # fmt: skip
        selectors.forget_portal_summary(locked)
    return entry


def _unapply(payment: Payment, amount: int, *, actor: User | None, at: datetime) -> None:
    """Reverse `amount` of the payment's applications, newest application first."""
    if amount <= 0:
        return
    net: dict[int, int] = {}
    newest: dict[int, tuple[datetime, int]] = {}
    for application in payment.applications.order_by("applied_at", "id"):
        net[application.invoice_id] = net.get(application.invoice_id, 0) + application.amount
        if application.amount > 0:
            newest[application.invoice_id] = (application.applied_at, application.pk)
    order = sorted(
        (invoice_id for invoice_id, total in net.items() if total > 0),
        key=lambda invoice_id: newest[invoice_id],
        reverse=True,
    )
    # Lock in id order (the module's lock order), then reverse newest first.
    invoices = Invoice.objects.select_for_update().filter(pk__in=order).order_by("pk").in_bulk()
    for invoice_id in order:
        if amount <= 0:
            break
        part = min(net[invoice_id], amount)
        invoice = invoices[invoice_id]
        PaymentApplication.objects.create(
            payment=payment, invoice=invoice, amount=-part, applied_at=at, created_by=actor
        )
        amount -= part
        _refresh_status(invoice)
    if amount > 0:
        raise ValidationError("The refund is more than is left of the payment.")


# Sending ---------------------------------------------------------------------------------


@dataclass
class SendOutcome:
    document_id: int
    outcome: str  # "sent" | "skipped"
    reason: str = ""


def send_document(document: BillingDocument, *, actor: User | None) -> SendOutcome:
    """Share the document in the client's portal and email them that it is waiting.

    Sending twice is harmless: the email's key is the document's, so the second call finds the
    first delivery and sends nothing.
    """
    from tenant_apps.mail.models import EmailDelivery

    client = document.client
    user = client.user
    if user is None or not user.is_active:
        return SendOutcome(document.pk, "skipped", "The client has no portal account.")
    key = f"{DOCUMENT_READY}:{document.pk}"
    with transaction.atomic():
        # Two sends at once (a double click) queue here; the second sees the first's email.
        locked = BillingDocument.objects.select_for_update().get(pk=document.pk)
        if locked.shared_at is not None and EmailDelivery.objects.filter(key=key).exists():
            return SendOutcome(document.pk, "skipped", "Already sent.")
        if locked.shared_at is None:
            locked.shared_at = document.shared_at = timezone.now()
            locked.save(update_fields=["shared_at"])
        queue_email(kind=DOCUMENT_READY, key=key, recipient=user, object_id=document.pk)
        record_event(actor, "billing.document_sent", target=document, client=client.pk)
        selectors.forget_portal_summary(client)
    return SendOutcome(document.pk, "sent")


def send_documents(
    documents: Iterable[BillingDocument], *, actor: User | None
) -> list[SendOutcome]:
    return [send_document(document, actor=actor) for document in documents]
