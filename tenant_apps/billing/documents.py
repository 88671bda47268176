"""Billing documents: immutable snapshots of what the client receives, rendered to PDF.

A snapshot holds everything its PDF shows (practice and client identity included), already in
display form, so re-rendering it later gives the same document however the records changed.
The PDF is rendered once, when first needed (sending, viewing), and stored privately under
the practice's prefix with a random name.
"""

import atexit
import gc
import io
import logging
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import timezone

from tenant_apps.accounts.models import User
from tenant_apps.audit.services import record_event
from tenant_apps.billing import codes, crypto, statements
from tenant_apps.billing.identifiers import format_tax_id
from tenant_apps.billing.models import (
    BillingDocument,
    BillingProfile,
    Invoice,
    InvoiceLine,
    PaymentApplication,
)
from tenant_apps.clients.models import Client
from tenants.models import Practice
from tenants.schemas import current_practice

logger = logging.getLogger(__name__)
# WeasyPrint reports each rendering step at INFO; only its warnings belong in our logs.
logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)

DASH = "\u2013"  # an en dash between the dates of a range

DIAGNOSIS_POINTERS = "ABCDEFGHIJKL"


def _day(value: date) -> str:
    return f"{value:%b} {value.day}, {value.year}"


def _now_label(practice: Practice) -> str:
    local = timezone.localtime(timezone.now(), ZoneInfo(practice.time_zone))
    return f"{_day(local.date())} {local:%H:%M} {local.tzname()}"


def practice_identity(practice: Practice, profile: BillingProfile) -> dict[str, Any]:
    return {
        "name": practice.name,
        "legal_name": profile.legal_name or practice.name,
        "address_lines": practice.display_address_lines,
        "phone": practice.phone,
        "time_zone": practice.time_zone,
    }


def client_identity(client: Client) -> dict[str, Any]:
    locality = " ".join(p for p in [client.city, client.region, client.postal_code] if p)
    return {
        "id": client.pk,
        "name": client.legal_name,
        "address_lines": [
            line for line in [client.address_line1, client.address_line2, locality] if line
        ],
    }


# Invoices --------------------------------------------------------------------------------


def create_invoice_document(invoice: Invoice, *, actor: User | None) -> BillingDocument:
    practice = current_practice()
    profile = BillingProfile.load()
    assert invoice.issued_at is not None and invoice.due_date is not None
    zone = ZoneInfo(practice.time_zone)
    lines = [
        {
            "date": _day(line.date_of_service),
            "description": line.description,
            "cpt_code": line.cpt_code,
            "units": line.units,
            "unit_fee": line.unit_fee,
            "adjustment": line.adjustment,
            "amount": line.amount,
        }
        for line in invoice.lines.all()
    ]
    snapshot = {
        "practice": practice_identity(practice, profile),
        "client": client_identity(invoice.client),
        "currency": invoice.currency,
        "number": invoice.number,
        "issued": _day(timezone.localdate(invoice.issued_at, zone)),
        "due": _day(invoice.due_date),
        "lines": lines,
        "subtotal": invoice.subtotal,
        "tax": invoice.tax,
        "total": invoice.total,
        "generated": _now_label(practice),
    }
    return BillingDocument.objects.create(
        kind=BillingDocument.Kind.INVOICE,
        client=invoice.client,
        invoice=invoice,
        title=f"Invoice {invoice.number}",
        key=f"invoice:{invoice.pk}",
        snapshot=snapshot,
        created_by=actor,
    )


# Statements ------------------------------------------------------------------------------


def statement_snapshot(
    client: Client,
    data: statements.StatementData,
    *,
    practice: Practice,
    profile: BillingProfile,
) -> dict[str, Any]:
    zone = ZoneInfo(practice.time_zone)
    return {
        "practice": practice_identity(practice, profile),
        "client": client_identity(client),
        "currency": practice.currency,
        "period": f"{_day(data.start)} {DASH} {_day(data.end)}",
        "period_start": data.start.isoformat(),
        "period_end": data.end.isoformat(),
        "time_zone": practice.time_zone,
        "beginning_balance": data.beginning_balance,
        "ending_balance": data.ending_balance,
        "activity": statements.activity_rows(data, zone),
        "aging": [{"label": key, "amount": data.aging[key]} for key in statements.AGING_BUCKETS],
        "unapplied_credit": data.unapplied_credit,
        "generated": _now_label(practice),
    }


def statement_title(start: date, end: date) -> str:
    whole_month = start.day == 1 and (end + timedelta(days=1)).day == 1
    if whole_month and (start.year, start.month) == (end.year, end.month):
        return f"Statement for {start:%B %Y}"
    return f"Statement {_day(start)} {DASH} {_day(end)}"


def create_statement(
    client: Client, *, actor: User | None, start: date, end: date
) -> BillingDocument:
    """A statement of one client for a date range in the practice's zone."""
    if end < start:
        raise ValidationError("The end date is before the start date.")
    practice = current_practice()
    data = statements.compute_statement(
        client, start=start, end=end, zone=ZoneInfo(practice.time_zone)
    )
    with transaction.atomic():
        document = BillingDocument.objects.create(
            kind=BillingDocument.Kind.STATEMENT,
            client=client,
            title=statement_title(start, end),
            period_start=start,
            period_end=end,
            snapshot=statement_snapshot(
                client, data, practice=practice, profile=BillingProfile.load()
            ),
            created_by=actor,
        )
        record_event(actor, "billing.statement_created", target=document, client=client.pk)
    return document


def monthly_statement_key(client_id: int, start: date) -> str:
    return f"statement:{start:%Y-%m}:{client_id}"


def create_monthly_statements(
    clients: list[Client], *, start: date, end: date, actor: User | None
) -> dict[int, tuple[BillingDocument | None, bool]]:
    """Each client's statement for the period, made once: {client id: (document, created)}.

    Clients without activity or balance get (None, False). A statement that exists (a re-run)
    is returned as it was, not made again.
    """
    practice = current_practice()
    profile = BillingProfile.load()
    zone = ZoneInfo(practice.time_zone)
    existing = {
        document.client_id: document
        for document in BillingDocument.objects.filter(
            key__in=[monthly_statement_key(client.pk, start) for client in clients]
        ).select_related("client__user")
    }
    todo = [client for client in clients if client.pk not in existing]
    data = statements.compute_statements(
        [client.pk for client in todo], start=start, end=end, zone=zone
    )
    fresh = [
        BillingDocument(
            kind=BillingDocument.Kind.STATEMENT,
            client=client,
            title=statement_title(start, end),
            period_start=start,
            period_end=end,
            key=monthly_statement_key(client.pk, start),
            snapshot=statement_snapshot(
                client, data[client.pk], practice=practice, profile=profile
            ),
            created_by=actor,
        )
        for client in todo
        if data[client.pk].has_activity_or_balance
    ]
    created: set[int] = set()
    try:
        with transaction.atomic():
            BillingDocument.objects.bulk_create(fresh)
            created = {document.client_id for document in fresh}
    except IntegrityError:
        # A concurrent run made some of them first: take one at a time, keeping theirs.
        for document in fresh:
            try:
                with transaction.atomic():
                    document.pk = None
                    document.save()
                    created.add(document.client_id)
            except IntegrityError:
                pass
        existing.update(
            {
                document.client_id: document
                for document in BillingDocument.objects.filter(
                    key__in=[d.key for d in fresh if d.client_id not in created]
                )
            }
        )
    result: dict[int, tuple[BillingDocument | None, bool]] = {
        client.pk: (None, False) for client in clients
    }
    for client_id, document in existing.items():
        result[client_id] = (document, False)
    for document in fresh:
        if document.client_id in created:
            result[document.client_id] = (document, True)
    return result


# Superbills ------------------------------------------------------------------------------


def service_dates(client: Client) -> list[date]:
    """Dates of service on the client's issued (not void) invoices, newest first."""
    return sorted(
        set(
            InvoiceLine.objects.filter(invoice__client=client)
            .exclude(invoice__status__in=[Invoice.Status.DRAFT, Invoice.Status.VOID])
            .values_list("date_of_service", flat=True)
        ),
        reverse=True,
    )


def create_superbill(
    client: Client,
    *,
    actor: User | None,
    dates: list[date],
    hide_diagnosis_descriptions: bool = False,
) -> BillingDocument:
    """A superbill for the client's services on `dates`, for them to claim from their insurer."""
    practice = current_practice()
    profile = BillingProfile.load()
    if not dates:
        raise ValidationError("Choose at least one date of service.")
    lines = list(
        InvoiceLine.objects.filter(invoice__client=client, date_of_service__in=dates)
        .exclude(invoice__status__in=[Invoice.Status.DRAFT, Invoice.Status.VOID])
        .select_related("invoice")
        .order_by("date_of_service", "id")
    )
    if not lines:
        raise ValidationError("There are no invoiced services on those dates.")
    missing = _missing_superbill_fields(practice, profile, client)
    if missing:
        raise ValidationError(f"Add these before making a superbill: {', '.join(missing)}.")
    diagnoses = list(client.diagnoses.all())
    if not diagnoses:
        raise ValidationError("Add at least one diagnosis code to the client first.")

    paid = _paid_per_line(lines)
    pointers = "".join(DIAGNOSIS_POINTERS[: min(len(diagnoses), 4)])
    clinician = client.assigned_clinician
    tax_id = crypto.decrypt(profile.tax_id_encrypted)
    snapshot = {
        "practice": {
            **practice_identity(practice, profile),
            "tax_id": format_tax_id(tax_id, profile.tax_id_kind),
            "tax_id_kind": profile.get_tax_id_kind_display(),
            "npi_organization": profile.npi_organization,
            "taxonomy_code": profile.taxonomy_code,
        },
        "provider": {
            "name": clinician.full_name if clinician else profile.legal_name or practice.name,
            "npi": profile.npi_individual,
        },
        "client": {
            **client_identity(client),
            "date_of_birth": _day(client.date_of_birth) if client.date_of_birth else "",
            "insurance_payer": client.insurance_payer,
            "insurance_member_id": client.insurance_member_id,
            "insurance_group_number": client.insurance_group_number,
            "insurance_policy_holder": client.insurance_policy_holder,
        },
        "currency": practice.currency,
        "hide_diagnosis_descriptions": hide_diagnosis_descriptions,
        "diagnoses": [
            {
                "pointer": DIAGNOSIS_POINTERS[index],
                "code": diagnosis.code,
                "description": "" if hide_diagnosis_descriptions else diagnosis.description,
            }
            for index, diagnosis in enumerate(diagnoses)
        ],
        "services": [
            {
                "date": _day(line.date_of_service),
                "cpt_code": line.cpt_code,
                "description": line.description,
                "modifiers": line.modifiers.replace(",", " "),
                "units": line.units,
                "fee": line.amount,
                "place_of_service": line.place_of_service,
                "place_of_service_name": codes.place_of_service_codes().get(
                    line.place_of_service, ""
                ),
                "diagnosis_pointers": pointers,
                "paid": paid[line.pk],
            }
            for line in lines
        ],
        "total_fees": sum(line.amount for line in lines),
        "total_paid": sum(paid.values()),
        "generated": _now_label(practice),
    }
    days = sorted(set(dates))
    title = (
        f"Superbill {_day(days[0])}"
        if len(days) == 1
        else f"Superbill {_day(days[0])} {DASH} {_day(days[-1])}"
    )
    with transaction.atomic():
        document = BillingDocument.objects.create(
            kind=BillingDocument.Kind.SUPERBILL,
            client=client,
            title=title,
            period_start=days[0],
            period_end=days[-1],
            snapshot=snapshot,
            created_by=actor,
        )
        record_event(actor, "billing.superbill_created", target=document, client=client.pk)
    return document


def _missing_superbill_fields(
    practice: Practice, profile: BillingProfile, client: Client
) -> list[str]:
    required = {
        "the practice's tax id": profile.tax_id_encrypted,
        "an NPI": profile.npi_individual or profile.npi_organization,
        "the practice address": practice.address_line1,
        "the client's date of birth": client.date_of_birth,
    }
    return [label for label, value in required.items() if not value]


def _paid_per_line(lines: list[InvoiceLine]) -> dict[int, int]:
    """What was paid towards each line: an invoice's applied payments, filled in line order."""
    invoice_ids = {line.invoice_id for line in lines}
    applied: dict[int, int] = defaultdict(int)
    for row in PaymentApplication.objects.filter(invoice_id__in=invoice_ids).values(
        "invoice_id", "amount"
    ):
        applied[row["invoice_id"]] += row["amount"]
    every_line = InvoiceLine.objects.filter(invoice_id__in=invoice_ids).order_by(
        "invoice_id", "date_of_service", "id"
    )
    paid: dict[int, int] = {}
    for line in every_line:
        part = max(0, min(applied[line.invoice_id], line.amount))
        applied[line.invoice_id] -= part
        paid[line.pk] = part
    return {line.pk: paid.get(line.pk, 0) for line in lines}


# PDF -------------------------------------------------------------------------------------


def render_pdf(document: BillingDocument) -> tuple[bytes, int]:
    """The document's PDF and its page count, from its snapshot."""
    from weasyprint import HTML

    html = render_to_string(
        f"billing/pdf/{document.kind}.html",
        {"doc": document.snapshot, "title": document.title, "currency": _currency(document)},
    )
    with _garbage_collected_after():
        rendered = HTML(string=html, url_fetcher=_no_network()).render(
            font_config=_fonts(), stylesheets=[_stylesheet()]
        )
        output = io.BytesIO()
        rendered.write_pdf(output)
    return output.getvalue(), len(rendered.pages)


def warm_up() -> None:
    """Render one throwaway invoice, so that a process's first real document does not also pay
    for importing WeasyPrint, loading the fonts and parsing the stylesheet (about ten renders'
    worth). Called when a web worker starts (deploy/gunicorn_config.py)."""
    sample = BillingDocument(kind=BillingDocument.Kind.INVOICE, title="Invoice", snapshot=SAMPLE)
    render_pdf(sample)


# A made-up invoice, bold and regular text and every table part, for warm_up().
SAMPLE: dict[str, Any] = {
    "practice": {"name": "Practice", "legal_name": "Practice", "address_lines": ["1 Street"]},
    "client": {"name": "Client", "address_lines": ["2 Street"]},
    "currency": "USD",
    "number": 1,
    "issued": "Jan 1, 2026",
    "due": "Jan 31, 2026",
    "lines": [
        {
            "date": "Jan 1, 2026",
            "description": "Service",
            "cpt_code": "90834",
            "units": 1,
            "unit_fee": 100,
            "adjustment": 0,
            "amount": 100,
        }
    ],
    "subtotal": 100,
    "tax": 0,
    "total": 100,
    "generated": "Jan 1, 2026 00:00 UTC",
}


@contextmanager
def _garbage_collected_after() -> Iterator[None]:
    """Hold off Python's cyclic garbage collector while a document renders, then collect only
    what the render allocated.

    A render allocates a great many short-lived objects. Left alone, the collector runs about
    ten times during one, and every few renders it sweeps the whole heap of the process (every
    Django and library object) for garbage the render made; deferred, one young-generation
    pass frees the render's cycles. If the caller already switched collection off, that is
    left as it is.
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
        gc.collect(0)


@cache
def _fonts() -> Any:
    """One font configuration per process: making one per document costs more than the
    layout of a page."""
    from weasyprint.text.fonts import FontConfiguration

    # Dropped at exit while modules still exist: its __del__ removes a temporary folder.
    atexit.register(_fonts.cache_clear)
    return FontConfiguration()


@cache
def _stylesheet() -> Any:
    """The documents' stylesheet, parsed once per process rather than from a <style> element
    in every document. Given to WeasyPrint as a user stylesheet: no document has an author
    stylesheet, so it wins over the renderer's defaults exactly as an author one would."""
    from weasyprint import CSS

    return CSS(
        string=render_to_string("billing/pdf/documents.css"),
        font_config=_fonts(),
        url_fetcher=_no_network(),
    )


@cache
def _no_network() -> Any:
    """A URL fetcher that fetches nothing but inline data: the templates reference no files,
    and a client-supplied value can never make the renderer reach the network. Made once,
    because building one sets up an SSL context (a tenth of a second)."""
    from weasyprint.urls import URLFetcher

    return URLFetcher(allowed_protocols=("data",))


def _currency(document: BillingDocument) -> str:
    return str(document.snapshot.get("currency", "USD"))


def ensure_pdf(document: BillingDocument) -> BillingDocument:
    """Render and store the PDF unless it exists; two renderers race harmlessly (the row lock
    makes the second find the first one's file)."""
    if document.pdf:
        return document
    content, pages = render_pdf(document)
    with transaction.atomic():
        locked = BillingDocument.objects.select_for_update().get(pk=document.pk)
        if not locked.pdf:
            locked.pdf.save("document.pdf", ContentFile(content), save=False)
            locked.pdf_pages = pages
            locked.save(update_fields=["pdf", "pdf_pages"])
    logger.info("Rendered billing document %s (%s pages)", locked.pk, locked.pdf_pages)
    document.pdf, document.pdf_pages = locked.pdf, locked.pdf_pages
    return document
