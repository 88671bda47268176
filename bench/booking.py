"""Online booking: how long slot generation and a contested booking take.

    .venv/bin/python bench/booking.py [--runs 50] [--rounds 10]

1. Slots: one clinician (Monday to Saturday, 8:00-20:00, slots every 15 minutes) with 500
   confirmed appointments over the next 60 days; the time to compute all of their free slots
   for a 50-minute service over the whole 60-day horizon, queries included. Target: median
   under 50 ms.
2. Contested booking: 20 processes, each with its own database connection and its own client,
   book the same slot at once (a barrier releases them together); repeated for `--rounds`
   slots. Reported: latency of each booking call (won or lost), and that exactly one
   appointment was booked per slot. Target: p99 under 200 ms.

The bench owns its database (dropped and recreated each run) and talks to 127.0.0.1 only.
BENCH_PG_SERVER and BOOKING_BENCH_REDIS_URL point elsewhere if needed.
"""

import argparse
import multiprocessing
import os
import statistics
import subprocess
import sys
import time as clock
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[0] = str(ROOT)

from bench import harness  # noqa: E402

DATABASE = "swasth_bench_booking"
REDIS_URL = os.environ.get("BOOKING_BENCH_REDIS_URL", "redis://127.0.0.1:6379/6")
BROKER_URL = os.environ.get("BOOKING_BENCH_BROKER_URL", "redis://127.0.0.1:6379/7")
APPOINTMENTS = 500
HORIZON_DAYS = 60
CONTENDERS = 20
TARGET_SLOTS_MS = 50.0
TARGET_BOOKING_P99_MS = 200.0


def configure() -> None:
    os.environ.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        DATABASE_URL=harness.database_url(DATABASE),
        REDIS_URL=REDIS_URL,
        # Emails are queued on a broker no worker reads, as in production a booking only
        # enqueues its email; the queue is flushed at the end.
        CELERY_BROKER_URL=BROKER_URL,
        CACHE_KEY_PREFIX="bench-booking",
        CELERY_TASK_ALWAYS_EAGER="false",
        EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend",
        LOG_LEVEL="WARNING",
        DATABASE_CONN_MAX_AGE="0",
    )


def migrate() -> None:
    harness.recreate_database(DATABASE)
    subprocess.run(
        [str(harness.PYTHON), "manage.py", "migrate_platform", "--verbosity", "0"],
        cwd=ROOT,
        env=dict(os.environ),
        check=True,
    )


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=10)
    args = parser.parse_args()

    configure()
    print(f"... creating {DATABASE} and migrating", flush=True)
    migrate()

    import django

    django.setup()

    from datetime import UTC, datetime, time, timedelta

    from django.db import connection
    from django.utils import timezone
    from django_tenants.utils import schema_context

    from shared_apps.plans.models import Plan
    from tenant_apps.accounts.models import Role, User
    from tenant_apps.booking import selectors, services
    from tenant_apps.booking.models import (
        Appointment,
        BookableService,
        BookingSettings,
        WorkingHours,
    )
    from tenant_apps.clients.models import Client
    from tenants.services import provision_practice

    practice = provision_practice(
        actor=None,
        name="Bench Booking",
        slug="bench-booking",
        owner_email="owner@bench.test",
        plan_code=Plan.PROFESSIONAL,
        time_zone="America/New_York",
    )
    zone = selectors.practice_zone(practice)
    now = timezone.now()
    with schema_context(practice.schema_name):
        settings = BookingSettings.objects.create(
            enabled=True,
            min_notice_hours=24,
            max_horizon_days=HORIZON_DAYS,
            buffer_minutes=10,
            slot_interval_minutes=15,
        )
        clinician = User.objects.create_user(
            "clinician@bench.test", full_name="Bench Clinician", role=Role.CLINICIAN
        )
        WorkingHours.objects.bulk_create(
            WorkingHours(clinician=clinician, weekday=d, start_time=time(8), end_time=time(20))
            for d in range(6)
        )
        service = BookableService.objects.create(
            name="Session", duration_minutes=50, mode=BookableService.Mode.INSTANT
        )
        service.clinicians.add(clinician)
        clients = [
            Client.objects.create(
                legal_first_name="Client", legal_last_name=str(n), email=f"c{n}@bench.test"
            )
            for n in range(CONTENDERS)
        ]
        # 500 confirmed appointments spread over the horizon: nine a working day, on the hour.
        today = now.astimezone(zone).date()
        rows, day = [], today
        while len(rows) < APPOINTMENTS:
            day += timedelta(days=1)
            if day.weekday() == 6:
                continue
            for hour in range(8, 17):
                start = datetime.combine(day, time(hour), tzinfo=zone).astimezone(UTC)
                end = start + timedelta(minutes=50)
                rows.append(
                    Appointment(
                        client=clients[len(rows) % CONTENDERS],
                        clinician=clinician,
                        start_at=start,
                        end_at=end,
                        blocks_until=end + timedelta(minutes=10),
                        status="confirmed",
                        source="staff",
                    )
                )
        Appointment.objects.bulk_create(rows[:APPOINTMENTS])
        last_day = today + timedelta(days=HORIZON_DAYS)

        # 1. Slot generation -------------------------------------------------------------
        timings, slots = [], 0
        for _ in range(args.runs):
            started = clock.perf_counter()
            days = selectors.free_slots_for(
                practice,
                service,
                clinician,
                first_day=today,
                last_day=last_day,
                now=now,
                settings=settings,
            )
            timings.append((clock.perf_counter() - started) * 1000)
            slots = sum(len(d.slots) for d in days)

    # 2. Contested bookings ------------------------------------------------------------------
    # Evenings (18:00) are free of the seeded appointments: one contested slot per round.
    contest_days = [
        today + timedelta(days=n)
        for n in range(2, HORIZON_DAYS)
        if (today + timedelta(days=n)).weekday() < 6
    ][: args.rounds]
    latencies: list[float] = []
    winners: list[int] = []
    # Processes, not threads: in production concurrent requests run in separate server
    # processes, and twenty threads of one process would mostly measure the GIL. Forked
    # after the parent closed its connection, so each child opens its own.
    forking = multiprocessing.get_context("fork")

    def contender(client_pk: int, start: datetime, barrier: Any, results: Any) -> None:
        try:
            with schema_context(practice.schema_name):
                client = Client.objects.get(pk=client_pk)
                barrier.wait(timeout=60)
                began = clock.perf_counter()
                try:
                    services.book_appointment(
                        practice=practice,
                        client=client,
                        service=service,
                        clinician=clinician,
                        start_at=start,
                        actor=None,
                    )
                    outcome = 1
                except (services.BookingError, services.SlotTaken):
                    outcome = 0
                results.put(((clock.perf_counter() - began) * 1000, outcome))
        finally:
            connection.close()

    for contest_day in contest_days:
        start = datetime.combine(contest_day, time(18), tzinfo=zone).astimezone(UTC)
        barrier = forking.Barrier(CONTENDERS)
        results = forking.Queue()
        connection.close()
        children = [
            forking.Process(target=contender, args=(c.pk, start, barrier, results)) for c in clients
        ]
        for child in children:
            child.start()
        outcomes = [results.get(timeout=120) for _ in children]
        for child in children:
            child.join()
        latencies.extend(elapsed for elapsed, _won in outcomes)
        won = sum(outcome for _elapsed, outcome in outcomes)
        with schema_context(practice.schema_name):
            booked = Appointment.objects.filter(start_at=start, status="confirmed").count()
        winners.append(booked if won == booked else -1)

    if os.environ.get("BENCH_PROFILE"):
        import cProfile
        import pstats

        profile_start = datetime.combine(contest_days[-1], time(17), tzinfo=zone).astimezone(UTC)
        with schema_context(practice.schema_name):
            profiler = cProfile.Profile()
            profiler.enable()
            services.book_appointment(
                practice=practice,
                client=clients[1],
                service=service,
                clinician=clinician,
                start_at=profile_start,
                actor=None,
            )
            profiler.disable()
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)

    # One client at a time: what a booking costs without contention.
    alone: list[float] = []
    for contest_day in contest_days:
        start = datetime.combine(contest_day, time(19), tzinfo=zone).astimezone(UTC)
        with schema_context(practice.schema_name):
            began = clock.perf_counter()
            services.book_appointment(
                practice=practice,
                client=clients[0],
                service=service,
                clinician=clinician,
                start_at=start,
                actor=None,
            )
            alone.append((clock.perf_counter() - began) * 1000)

    connection.close()
    harness.drop_database(DATABASE)
    import redis

    redis.Redis.from_url(BROKER_URL).flushdb()

    median = statistics.median(timings)
    p99 = percentile(latencies, 99)
    print()
    print(f"machine: {os.cpu_count()} CPU(s); PostgreSQL at {harness.PG_SERVER}")
    print(
        f"slots, one clinician, {HORIZON_DAYS} days, {APPOINTMENTS} appointments "
        f"({slots} free slots), {args.runs} runs:"
    )
    print(
        f"  median {median:.1f} ms   p95 {percentile(timings, 95):.1f} ms   "
        f"min {min(timings):.1f} ms   max {max(timings):.1f} ms   "
        f"target median < {TARGET_SLOTS_MS:.0f} ms: "
        f"{'met' if median < TARGET_SLOTS_MS else 'MISSED'}"
    )
    print(f"uncontended booking, one at a time: median {statistics.median(alone):.1f} ms")
    print(
        f"contested booking, {CONTENDERS} processes (own connections) x {len(contest_days)} slots:"
    )
    print(
        f"  p50 {percentile(latencies, 50):.1f} ms   p95 {percentile(latencies, 95):.1f} ms   "
        f"p99 {p99:.1f} ms   max {max(latencies):.1f} ms   "
        f"target p99 < {TARGET_BOOKING_P99_MS:.0f} ms: "
        f"{'met' if p99 < TARGET_BOOKING_P99_MS else 'MISSED'}"
    )
    exactly_one = all(w == 1 for w in winners)
    print(f"  appointments booked per slot: {winners}  exactly one each: {exactly_one}")
    if not exactly_one:
        sys.exit(1)


if __name__ == "__main__":
    main()
