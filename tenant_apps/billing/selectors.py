"""Reads of billing data, scoped to what the asking person may see."""

from datetime import datetime

from django.core.cache import cache
from django.db.models import Count, IntegerField, OuterRef, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.http import Http404

from tenant_apps.accounts.models import Role, User
from tenant_apps.billing.models import (
    BillingDocument,
    BillingRun,
    ClientDiagnosis,
    Dispute,
    Invoice,
    LedgerEntry,
    Location,
    Payment,
    PaymentApplication,
    Refund,
    Service,
)
from tenant_apps.clients.models import Client
from tenant_apps.clients.selectors import clients_for_staff, get_client_for_staff

MANAGERS = frozenset({Role.OWNER, Role.BILLER})
DIAGNOSERS = frozenset({Role.OWNER, Role.CLINICIAN})


def can_manage_billing(user: User) -> bool:
    return user.role in MANAGERS


def can_edit_diagnoses(user: User) -> bool:
    return user.role in DIAGNOSERS


def _pk(value: int | str) -> int | None:
    text = str(value)
    return int(text) if text.isdigit() else None


def _sum(queryset: QuerySet, field: str = "amount") -> int:  # type: ignore[type-arg]
    total = queryset.aggregate(total=Sum(field))["total"]
    return int(total or 0)


# Ledger ----------------------------------------------------------------------------------


def client_balance(client: Client, *, before: datetime | None = None) -> int:
    """What the client owes (negative: the practice owes them), from the ledger alone."""
    entries = LedgerEntry.objects.filter(client=client)
    if before is not None:
        entries = entries.filter(occurred_at__lt=before)
    return _sum(entries)


def unapplied_credit(client: Client) -> int:
    """Payments not applied to invoices and not refunded."""
    paid = _sum(Payment.objects.filter(client=client))
    refunded = _sum(LedgerEntry.objects.filter(client=client, kind=LedgerEntry.Kind.REFUND))
    applied = _sum(PaymentApplication.objects.filter(payment__client=client))
    return paid - refunded - applied


def payment_refunded(payment: Payment) -> int:
    """What the ledger records as given back on `payment`."""
    return _sum(payment.ledger_entries.filter(kind=LedgerEntry.Kind.REFUND))


def payment_unapplied(payment: Payment) -> int:
    """The part of `payment` neither applied to an invoice nor refunded."""
    applied = _sum(payment.applications.all())
    return payment.amount - payment_refunded(payment) - applied


def payments_with_refunds(client: Client) -> QuerySet[Payment]:
    """The client's payments, each annotated with `refund_total` (on the ledger) and
    `dispute_count`, in one query."""
    refunded = (
        LedgerEntry.objects.filter(payment=OuterRef("pk"), kind=LedgerEntry.Kind.REFUND)
        .values("payment")
        .annotate(total=Sum("amount"))
        .values("total")
    )
    disputes = (
        Dispute.objects.filter(payment=OuterRef("pk"))
        .values("payment")
        .annotate(n=Count("pk"))
        .values("n")
    )
    zero = Value(0, output_field=IntegerField())
    return client.payments.annotate(
        refund_total=Coalesce(Subquery(refunded), zero),
        dispute_count=Coalesce(Subquery(disputes), zero),
    )


def submitted_refund(payment: Payment, request_key: str) -> Refund | None:
    """The refund a refund form (by its one-time token) already made on `payment`."""
    if not request_key:
        return None
    return payment.refunds.filter(request_key=request_key).first()


def invoice_made_by_form(client: Client, form_token: str) -> Invoice | None:
    """The invoice the new-invoice form (by its one-time token) already made for `client`."""
    if not form_token:
        return None
    return client.invoices.filter(form_token=form_token).first()


def payment_made_by_form(client: Client, form_token: str) -> Payment | None:
    """The payment the record-payment form (by its one-time token) already made."""
    if not form_token:
        return None
    return client.payments.filter(form_token=form_token).first()


def refundable_amount(payment: Payment) -> int:
    """What may still be refunded: the payment less every refund asked for or made (a
    refund waiting for Stripe's answer counts, so two requests cannot both take the rest)."""
    taken = _sum(payment.refunds.filter(status__in=Refund.ACTIVE))
    return max(payment.amount - taken, 0)


def with_balances(invoices: QuerySet[Invoice]) -> QuerySet[Invoice]:
    """Annotate `balance_due`: the invoice's ledger entries less the payments applied to it."""
    entries = (
        LedgerEntry.objects.filter(invoice=OuterRef("pk"))
        .values("invoice")
        .annotate(total=Sum("amount"))
        .values("total")
    )
    applied = (
        PaymentApplication.objects.filter(invoice=OuterRef("pk"))
        .values("invoice")
        .annotate(total=Sum("amount"))
        .values("total")
    )
    zero = Value(0, output_field=IntegerField())
    return invoices.annotate(
        balance_due=Coalesce(Subquery(entries), zero) - Coalesce(Subquery(applied), zero)
    )


def invoice_balance_due(invoice: Invoice) -> int:
    charged = _sum(LedgerEntry.objects.filter(invoice=invoice))
    applied = _sum(PaymentApplication.objects.filter(invoice=invoice))
    return charged - applied


def open_invoices(client: Client) -> QuerySet[Invoice]:
    return with_balances(
        client.invoices.filter(status__in=[Invoice.Status.ISSUED, Invoice.Status.PARTIALLY_PAID])
    ).order_by("issued_at", "id")


def client_invoices(client: Client) -> QuerySet[Invoice]:
    return with_balances(client.invoices.select_related("document")).order_by("-created_at", "-id")


# Staff-scoped lookups ------------------------------------------------------------------------


def get_billing_client(user: User, pk: int | str) -> Client:
    """A client whose billing `user` may see: owners and billers all, clinicians their own."""
    return get_client_for_staff(user, pk)


def get_invoice_for_staff(user: User, pk: int | str) -> Invoice:
    number = _pk(pk)
    if number is None:
        raise Http404("Not found")
    found = (
        Invoice.objects.filter(pk=number, client__in=clients_for_staff(user))
        .select_related("client", "location")
        .first()
    )
    if found is None:
        raise Http404("No such invoice")
    return found


def get_payment_for_staff(user: User, pk: int | str) -> Payment:
    """A payment of a client `user` may see; 404 for anything else."""
    number = _pk(pk)
    if number is None:
        raise Http404("Not found")
    found = (
        Payment.objects.filter(pk=number, client__in=clients_for_staff(user))
        .select_related("client")
        .first()
    )
    if found is None:
        raise Http404("No such payment")
    return found


def get_document_for_staff(user: User, pk: int | str) -> BillingDocument:
    number = _pk(pk)
    if number is None:
        raise Http404("Not found")
    found = (
        BillingDocument.objects.filter(pk=number, client__in=clients_for_staff(user))
        .select_related("client")
        .first()
    )
    if found is None:
        raise Http404("No such document")
    return found


def get_service(pk: int | str) -> Service:
    number = _pk(pk)
    found = Service.objects.filter(pk=number).first() if number is not None else None
    if found is None:
        raise Http404("No such service")
    return found


def get_location(pk: int | str) -> Location:
    number = _pk(pk)
    found = Location.objects.filter(pk=number).first() if number is not None else None
    if found is None:
        raise Http404("No such location")
    return found


def get_diagnosis(client: Client, pk: int | str) -> ClientDiagnosis:
    number = _pk(pk)
    found = client.diagnoses.filter(pk=number).first() if number is not None else None
    if found is None:
        raise Http404("No such diagnosis")
    return found


def get_run(pk: int | str) -> BillingRun:
    number = _pk(pk)
    found = BillingRun.objects.filter(pk=number).first() if number is not None else None
    if found is None:
        raise Http404("No such run")
    return found


# Portal --------------------------------------------------------------------------------------


def shared_documents(client: Client) -> QuerySet[BillingDocument]:
    return client.billing_documents.filter(shared_at__isnull=False).select_related("invoice")


def get_document_for_client(client: Client, pk: int | str) -> BillingDocument:
    number = _pk(pk)
    found = shared_documents(client).filter(pk=number).first() if number is not None else None
    if found is None:
        raise Http404("No such document")
    return found


PORTAL_SUMMARY_SECONDS = 300


def _summary_key(user_id: int) -> str:
    # The cache's key function adds the practice schema, so user ids of two practices differ.
    return f"billing:portal-summary:{user_id}"


def portal_summary(user: User) -> dict[str, object]:
    """What the portal home shows of billing, cached (per practice schema and user) until a
    billing write for this client forgets it; an empty summary when nothing is owed or shared."""
    key = _summary_key(user.pk)
    cached = cache.get(key)
    if cached is not None:
        return dict(cached)
    client = Client.objects.filter(user=user).first()
    summary: dict[str, object] = {"has_billing": False}
    if client is not None:
        documents = list(shared_documents(client).values("pk", "kind", "title", "shared_at")[:5])
        invoices = list(
            open_invoices(client).values("pk", "number", "due_date", "balance_due")  # type: ignore[misc]
        )
        balance = client_balance(client)
        summary = {
            "has_billing": bool(documents or invoices or balance),
            "balance": balance,
            "documents": documents,
            "open_invoices": invoices,
        }
    cache.set(key, summary, timeout=PORTAL_SUMMARY_SECONDS)
    return summary


def forget_portal_summary(client: Client) -> None:
    if client.user_id is None:
        return
    from django.db import transaction

    from tenant_apps.portal.registry import forget_homes

    key = _summary_key(client.user_id)
    cache.delete(key)
    transaction.on_commit(lambda: cache.delete(key))
    # The portal home keeps this summary in its own cached entry too.
    forget_homes()
