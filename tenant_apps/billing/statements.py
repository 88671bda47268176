"""Statements: what a client owed at the start of a period, what happened in it, what they owe
at its end, and how old the unpaid part is.

Periods are dates in the practice's time zone: a period from Nov 1 to Nov 30 covers local
midnight Nov 1 up to (not including) local midnight Dec 1, whatever the UTC offsets on those
days (November holds the end of daylight saving time in the US and Europe). Many clients are
computed with a fixed number of queries, for the monthly batch.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from tenant_apps.billing.models import LedgerEntry, PaymentApplication
from tenant_apps.clients.models import Client

AGING_BUCKETS = ("current", "30", "60", "90+")


def local_midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time.min, tzinfo=zone)


def period_bounds(start: date, end: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """[start, end] as local dates → the half-open instant range [from, until)."""
    return local_midnight(start, zone), local_midnight(end + timedelta(days=1), zone)


def previous_month(today: date) -> tuple[date, date]:
    last = today.replace(day=1) - timedelta(days=1)
    return last.replace(day=1), last


def aging_bucket(days: int) -> str:
    if days <= 30:
        return "current"
    if days <= 60:
        return "30"
    if days <= 90:
        return "60"
    return "90+"


@dataclass
class Activity:
    occurred_at: datetime
    kind: str
    amount: int
    invoice_number: int | None
    method: str
    reference: str


@dataclass
class StatementData:
    client_id: int
    start: date
    end: date
    beginning_balance: int = 0
    ending_balance: int = 0
    activity: list[Activity] = field(default_factory=list)
    aging: dict[str, int] = field(default_factory=lambda: dict.fromkeys(AGING_BUCKETS, 0))
    unapplied_credit: int = 0

    @property
    def has_activity_or_balance(self) -> bool:
        return bool(self.activity) or self.ending_balance != 0


def compute_statements(
    client_ids: list[int], *, start: date, end: date, zone: ZoneInfo
) -> dict[int, StatementData]:
    """Statements of many clients at once: two queries, whatever the number of clients."""
    since, until = period_bounds(start, end, zone)
    results = {pk: StatementData(client_id=pk, start=start, end=end) for pk in client_ids}
    entries = LedgerEntry.objects.filter(client_id__in=client_ids, occurred_at__lt=until).values(
        "client_id",
        "kind",
        "amount",
        "occurred_at",
        "invoice_id",
        "invoice__number",
        "invoice__issued_at",
        "payment__method",
        "payment__reference",
    )
    applications = PaymentApplication.objects.filter(
        payment__client_id__in=client_ids, applied_at__lt=until
    ).values("payment__client_id", "invoice_id", "amount")

    invoice_due: dict[int, int] = defaultdict(int)
    invoice_issued: dict[int, datetime | None] = {}
    invoice_client: dict[int, int] = {}
    paid: dict[int, int] = defaultdict(int)
    for entry in entries.order_by("occurred_at", "id"):
        statement = results[entry["client_id"]]
        amount: int = entry["amount"]
        if entry["occurred_at"] < since:
            statement.beginning_balance += amount
        else:
            statement.activity.append(
                Activity(
                    occurred_at=entry["occurred_at"],
                    kind=entry["kind"],
                    amount=amount,
                    invoice_number=entry["invoice__number"],
                    method=entry["payment__method"] or "",
                    reference=entry["payment__reference"] or "",
                )
            )
        statement.ending_balance += amount
        if entry["invoice_id"] is not None:
            invoice_due[entry["invoice_id"]] += amount
            invoice_issued[entry["invoice_id"]] = entry["invoice__issued_at"]
            invoice_client[entry["invoice_id"]] = entry["client_id"]
        if entry["kind"] in (LedgerEntry.Kind.PAYMENT, LedgerEntry.Kind.REFUND):
            # A refund (positive) gives back part of a payment: less credit on account.
            paid[entry["client_id"]] -= amount
    for application in applications:
        invoice_due[application["invoice_id"]] -= application["amount"]
        paid[application["payment__client_id"]] -= application["amount"]

    for invoice_id, due in invoice_due.items():
        if due == 0:
            continue
        issued_at = invoice_issued[invoice_id]
        assert issued_at is not None, "an invoice with ledger entries was issued"
        issued = issued_at.astimezone(zone).date()
        bucket = aging_bucket((end - issued).days)
        results[invoice_client[invoice_id]].aging[bucket] += due
    for client_id, credit in paid.items():
        results[client_id].unapplied_credit = credit
    return results


def compute_statement(client: Client, *, start: date, end: date, zone: ZoneInfo) -> StatementData:
    return compute_statements([client.pk], start=start, end=end, zone=zone)[client.pk]


def describe(activity: Activity) -> str:
    """A line of the statement, in words a client understands; no clinical detail."""
    number = activity.invoice_number
    if activity.kind == LedgerEntry.Kind.CHARGE:
        return f"Invoice {number}"
    if activity.kind == LedgerEntry.Kind.VOID:
        return f"Invoice {number} voided"
    if activity.kind == LedgerEntry.Kind.WRITE_OFF:
        return f"Adjustment to invoice {number}"
    if activity.kind == LedgerEntry.Kind.REFUND:
        return "Refund to card" if activity.method == "card" else "Refund"
    label = {"card": "card", "cash": "cash", "check": "check"}.get(activity.method, "")
    text = f"Payment by {label}" if label else "Payment"
    return f"{text} {activity.reference}".strip() if activity.method == "check" else text


def activity_rows(data: StatementData, zone: ZoneInfo) -> list[dict[str, Any]]:
    rows = []
    running = data.beginning_balance
    for item in data.activity:
        running += item.amount
        rows.append(
            {
                "date": item.occurred_at.astimezone(zone).date().isoformat(),
                "description": describe(item),
                "amount": item.amount,
                "balance": running,
            }
        )
    return rows
