# ruff: noqa: E402
"""Billing figures: PDF render time per page, and one month's statements for many clients.

    .venv/bin/python bench/billing.py [--practices 100] [--clients 100] [--pdfs 30] [--rounds 3]

It builds a database of its own (swasth_bench_billing, dropped and recreated), provisions the
practices, and writes each client's November ledger straight into the tables (an issued
invoice, and for most clients a payment), which is setup, not measured. Then it measures:

1. PDF rendering: a month of weekly sessions for each of --pdfs clients (a four-line invoice,
   the month's statement, a superbill with two diagnoses), each document rendered from its
   snapshot --rounds times. After the warm-up a web worker does when it starts; wall-clock
   and CPU time per page, median and p95, per kind of document, with its page count
   (target: median under 100 ms).
2. The monthly batch: for every practice, in its schema, the statement run that a practice's
   Celery task performs: compute each client's statement, store it, share it and queue its
   email (a delivery row and a message on the Redis broker; no worker consumes them here, so
   no email is sent). One process, practices one after another (target: under 60 s for
   10,000 clients in 100 practices). Rendering the statements' PDFs is not part of it: a PDF
   is rendered when it is first opened.

Redis: the broker is BENCH_BILLING_BROKER (default database 9 of the local server), flushed
before and after; the cache is BENCH_BILLING_REDIS (database 8). BENCH_BILLING_DB names the
database, so that two runs on one server do not drop each other's.
"""

import sys
from pathlib import Path

sys.path[0] = str(Path(__file__).resolve().parent.parent)

import argparse
import os
import statistics
import time

DB_NAME = os.environ.get("BENCH_BILLING_DB", "swasth_bench_billing")
PG_SERVER = os.environ.get("BENCH_PG_SERVER", "postgres://postgres@127.0.0.1:5432")
BROKER = os.environ.get("BENCH_BILLING_BROKER", "redis://127.0.0.1:6379/9")
CACHE = os.environ.get("BENCH_BILLING_REDIS", "redis://127.0.0.1:6379/8")

os.environ.update(
    {
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": f"{PG_SERVER}/{DB_NAME}",
        "REDIS_URL": CACHE,
        "CELERY_BROKER_URL": BROKER,
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "CACHE_KEY_PREFIX": "swasth-bench-billing",
        "EMAIL_BACKEND": "django.core.mail.backends.dummy.EmailBackend",
        "LOG_LEVEL": "WARNING",
    }
)

import psycopg
import redis


def recreate_database() -> None:
    with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{DB_NAME}"')


def drop_database() -> None:
    from django.db import connections

    connections.close_all()
    with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--practices", type=int, default=100)
    parser.add_argument("--clients", type=int, default=100)
    parser.add_argument("--pdfs", type=int, default=30, help="documents of each kind to render")
    parser.add_argument("--rounds", type=int, default=3, help="times each document is rendered")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--only-pdfs", action="store_true", help="skip the monthly batch")
    args = parser.parse_args()

    recreate_database()
    redis.Redis.from_url(BROKER).flushdb()
    redis.Redis.from_url(CACHE).flushdb()
    import django

    django.setup()
    try:
        run(args)
    finally:
        redis.Redis.from_url(BROKER).flushdb()
        redis.Redis.from_url(CACHE).flushdb()
        if not args.keep:
            drop_database()


def run(args: argparse.Namespace) -> None:
    from django.core.management import call_command

    started = time.perf_counter()
    call_command("migrate_platform", verbosity=0)
    practices = setup_practices(args.practices, args.clients)
    print(
        f"setup: {args.practices} practices x {args.clients} clients in "
        f"{time.perf_counter() - started:.1f} s (not measured below)"
    )
    measure_pdfs(practices[0], args.pdfs, args.rounds)
    if not args.only_pdfs:
        measure_statements(practices)


def setup_practices(count: int, clients: int) -> list:
    from tenants.services import provision_practice

    practices = []
    for index in range(count):
        practice = provision_practice(
            actor=None,
            name=f"Bench Practice {index}",
            slug=f"bench-{index}",
            owner_email=f"owner{index}@bench.test",
            owner_name="Owner",
            time_zone=["America/New_York", "Europe/London", "Asia/Tokyo"][index % 3],
            currency="JPY" if index % 3 == 2 else "USD",
        )
        fill_ledger(practice, clients)
        practices.append(practice)
    return practices


def fill_ledger(practice, count: int) -> None:
    """Clients, portal accounts for 80 % of them, an issued invoice each and a payment for
    two in three, written in bulk."""
    from datetime import UTC, date, datetime

    from django_tenants.utils import schema_context

    from tenant_apps.accounts.models import Role, User
    from tenant_apps.billing.models import (
        BillingProfile,
        Invoice,
        InvoiceLine,
        LedgerEntry,
        Payment,
        PaymentApplication,
        Sequence,
    )
    from tenant_apps.clients.models import Client

    issued_at = datetime(2026, 11, 10, 15, tzinfo=UTC)
    paid_at = datetime(2026, 11, 20, 15, tzinfo=UTC)
    currency = practice.currency
    with schema_context(practice.schema_name):
        BillingProfile.objects.update_or_create(
            pk=1,
            defaults={"legal_name": practice.name, "npi_individual": "1234567893"},
        )
        users = User.objects.bulk_create(
            User(
                email=f"c{i}@{practice.schema_name}.test",
                full_name=f"Client {i}",
                role=Role.CLIENT,
                password="!",
            )
            for i in range(count)
        )
        clients = Client.objects.bulk_create(
            Client(
                legal_first_name="Client",
                legal_last_name=f"Number {i}",
                email=users[i].email,
                user=users[i] if i % 5 else None,
                date_of_birth=date(1980, 1, 1),
                address_line1=f"{i} Bench Street",
            )
            for i in range(count)
        )
        fee = 12000 if currency == "JPY" else 15000
        invoices = Invoice.objects.bulk_create(
            Invoice(
                client=client,
                number=i + 1,
                status="issued",
                currency=currency,
                subtotal=fee,
                total=fee,
                issued_at=issued_at,
                due_date=date(2026, 12, 10),
            )
            for i, client in enumerate(clients)
        )
        Sequence.objects.create(name="invoice", last_value=len(invoices))
        InvoiceLine.objects.bulk_create(
            InvoiceLine(
                invoice=invoice,
                description="Psychotherapy",
                cpt_code="90834",
                date_of_service=date(2026, 11, 3),
                unit_fee=fee,
                place_of_service="11",
            )
            for invoice in invoices
        )
        LedgerEntry.objects.bulk_create(
            LedgerEntry(
                client=invoice.client,
                kind="charge",
                amount=fee,
                currency=currency,
                occurred_at=issued_at,
                invoice=invoice,
            )
            for invoice in invoices
        )
        paying = [invoice for i, invoice in enumerate(invoices) if i % 3]
        payments = Payment.objects.bulk_create(
            Payment(
                client=invoice.client,
                method="check",
                amount=fee // 2,
                currency=currency,
                received_at=paid_at,
            )
            for invoice in paying
        )
        LedgerEntry.objects.bulk_create(
            LedgerEntry(
                client=payment.client,
                kind="payment",
                amount=-payment.amount,
                currency=currency,
                occurred_at=paid_at,
                payment=payment,
            )
            for payment in payments
        )
        PaymentApplication.objects.bulk_create(
            PaymentApplication(
                payment=payment, invoice=invoice, amount=payment.amount, applied_at=paid_at
            )
            for payment, invoice in zip(payments, paying, strict=True)
        )
        Invoice.objects.filter(pk__in=[i.pk for i in paying]).update(status="partially_paid")


KINDS = ("invoice", "statement", "superbill")
SESSION_DAYS = (3, 10, 17, 24)


def measure_pdfs(practice, count: int, rounds: int) -> None:
    """Render `count` documents of each kind, `rounds` times over, and time each render.

    Each render is `documents.render_pdf`, the function the portal's download view calls: it
    renders the template from the document's snapshot and lays out and writes a complete PDF.
    Nothing is carried from one render to the next except what a web worker keeps for its
    whole life: WeasyPrint's modules, the font configuration, the parsed stylesheet and the
    compiled templates. Before timing, the process is warmed up the way a web worker is when
    it starts (`documents.warm_up`), and one document of each kind is rendered untimed.
    """
    from datetime import date

    from django_tenants.utils import schema_context

    from tenant_apps.billing import documents, services
    from tenant_apps.clients.models import Client
    from tenants.models import Practice

    Practice.objects.filter(pk=practice.pk).update(address_line1="1 Bench Street", city="Albany")
    with schema_context(practice.schema_name):
        from tenant_apps.billing.models import BillingProfile

        profile = BillingProfile.load()
        services.save_billing_profile(profile, actor=None, changed=[], tax_id="12-3456789")
        made = []
        for client in Client.objects.order_by("pk")[:count]:
            # A month of weekly sessions: a four-line invoice, the month's statement, and a
            # superbill for the sessions with two diagnoses.
            services.add_diagnosis(client, actor=None, code="F41.1")
            services.add_diagnosis(client, actor=None, code="F43.23")
            draft = services.create_invoice(
                client,
                actor=None,
                lines=[
                    services.LineInput(date_of_service=date(2026, 11, day), unit_fee=15000)
                    for day in SESSION_DAYS
                ],
            )
            made.append(services.issue_invoice(draft, actor=None).document)
            made.append(
                documents.create_statement(
                    client, actor=None, start=date(2026, 11, 1), end=date(2026, 11, 30)
                )
            )
            made.append(
                documents.create_superbill(
                    client, actor=None, dates=[date(2026, 11, day) for day in SESSION_DAYS]
                )
            )
        made = [document for document in made if document is not None]

        documents.warm_up()
        for kind in KINDS:
            documents.render_pdf(next(d for d in made if d.kind == kind))

        wall_ms: dict[str, list[float]] = {kind: [] for kind in KINDS}
        cpu_ms: dict[str, list[float]] = {kind: [] for kind in KINDS}
        pages_seen: dict[str, set[int]] = {kind: set() for kind in KINDS}
        for _round in range(rounds):
            for document in made:
                began, cpu = time.perf_counter(), time.process_time()
                content, pages = documents.render_pdf(document)
                wall = time.perf_counter() - began
                cpu = time.process_time() - cpu
                assert content.startswith(b"%PDF-") and pages >= 1
                wall_ms[document.kind].append(wall * 1000 / pages)
                cpu_ms[document.kind].append(cpu * 1000 / pages)
                pages_seen[document.kind].add(pages)

    load = os.getloadavg()[0]
    renders = sum(map(len, wall_ms.values()))
    print(
        f"PDF render, ms per page: {renders} renders ({len(made)} documents x {rounds} rounds), "
        "after warm-up; wall clock, and this process's CPU time, which other load on the "
        f"machine inflates less; 1-minute load average {load:.1f} on {os.cpu_count()} CPUs:"
    )
    for kind in KINDS:
        pages = "-".join(str(n) for n in sorted({min(pages_seen[kind]), max(pages_seen[kind])}))
        print(
            f"  {kind:9s} wall median {statistics.median(wall_ms[kind]):6.1f} "
            f"p95 {percentile(wall_ms[kind], 0.95):6.1f}   "
            f"cpu median {statistics.median(cpu_ms[kind]):6.1f} "
            f"p95 {percentile(cpu_ms[kind], 0.95):6.1f}   "
            f"({pages} page{'s' if pages != '1' else ''} each, n={len(wall_ms[kind])})"
        )
    every_wall = [value for values in wall_ms.values() for value in values]
    every_cpu = [value for values in cpu_ms.values() for value in values]
    median = statistics.median(every_wall)
    verdict = "meets" if median < 100 else "MISSES"
    print(
        f"  all       wall median {median:6.1f} p95 {percentile(every_wall, 0.95):6.1f}   "
        f"cpu median {statistics.median(every_cpu):6.1f} "
        f"p95 {percentile(every_cpu, 0.95):6.1f}   -> wall median {verdict} the 100 ms target"
    )


def measure_statements(practices: list) -> None:
    from datetime import date

    from django_tenants.utils import schema_context

    from tenant_apps.billing import runs
    from tenant_apps.billing.models import BillingRun
    from tenant_apps.mail.models import EmailDelivery

    broker = redis.Redis.from_url(BROKER)
    broker.flushdb()
    totals = {"statements": 0, "sent": 0, "skipped": 0, "failed": 0}
    began = time.perf_counter()
    for practice in practices:
        with schema_context(practice.schema_name):
            run = BillingRun.objects.create(
                period_start=date(2026, 11, 1), period_end=date(2026, 11, 30)
            )
            run = runs.process_run(run.pk)
            totals["statements"] += run.total
            totals["sent"] += run.sent
            totals["skipped"] += run.skipped
            totals["failed"] += run.failed
    elapsed = time.perf_counter() - began
    queued = broker.llen("celery")
    with schema_context(practices[0].schema_name):
        deliveries = EmailDelivery.objects.filter(kind="billing_document_ready").count()
    clients = totals["statements"]
    verdict = "meets" if elapsed < 60 else "MISSES"
    print(
        f"Monthly statements: {clients} statements for {len(practices)} practices in "
        f"{elapsed:.1f} s ({elapsed / max(clients, 1) * 1000:.2f} ms each) -> {verdict} the "
        "60 s target"
    )
    print(
        f"  sent {totals['sent']}, skipped {totals['skipped']} (no portal account), "
        f"failed {totals['failed']}; {queued} email tasks on the broker; "
        f"{deliveries} deliveries recorded in the first practice"
    )


if __name__ == "__main__":
    main()
