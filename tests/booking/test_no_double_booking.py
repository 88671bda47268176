"""The database, not only a check before the insert, keeps one clinician's appointments
apart: an exclusion constraint over the clinician and [start, end + buffer)."""

import logging
import threading
from collections import Counter
from datetime import UTC, datetime, time, timedelta

import pytest
import time_machine
from django.db import IntegrityError, connection, transaction
from django_tenants.utils import schema_context

from tenant_apps.accounts.models import Role, User
from tenant_apps.booking import services
from tenant_apps.booking.models import Appointment, BookableService, BookingSettings, WorkingHours
from tenant_apps.clients.models import Client

CONTENDERS = 20
# Wednesday 4 March 2026, 9:00 in Chicago (the committed practice's zone), a week ahead.
CONTESTED = datetime(2026, 3, 4, 15, 0, tzinfo=UTC)
A_WEEK_BEFORE = CONTESTED - timedelta(days=7)


def _appointment(client, clinician, start, minutes=50, buffer=10, status="confirmed"):
    end = start + timedelta(minutes=minutes)
    return Appointment(
        client=client,
        clinician=clinician,
        start_at=start,
        end_at=end,
        blocks_until=end + timedelta(minutes=buffer),
        status=status,
        source="staff",
    )


def test_the_database_refuses_an_overlapping_appointment(sunrise, bob, carol_record):
    start = datetime(2026, 3, 4, 14, tzinfo=UTC)
    with schema_context(sunrise.schema_name):
        _appointment(carol_record, bob, start).save()
        with pytest.raises(IntegrityError) as refused, transaction.atomic():
            _appointment(carol_record, bob, start + timedelta(minutes=55)).save()
        assert refused.value.__cause__.sqlstate == "23P01"  # exclusion_violation
        # Right after the buffer, and any time for another clinician, is fine.
        _appointment(carol_record, bob, start + timedelta(minutes=60)).save()
        alice = User.objects.get(role=Role.OWNER)
        _appointment(carol_record, alice, start).save()
        # Cancelled and declined appointments hold nothing.
        _appointment(carol_record, bob, start + timedelta(hours=3), status="cancelled").save()
        _appointment(carol_record, bob, start + timedelta(hours=3), status="declined").save()
        _appointment(carol_record, bob, start + timedelta(hours=3), status="requested").save()


def test_the_constraint_lives_in_every_practice_schema_and_uses_btree_gist(sunrise, harbor):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT extnamespace::regnamespace::text FROM pg_extension WHERE extname = 'btree_gist'"
        )
        assert cursor.fetchone() == ("public",)
        for practice in (sunrise, harbor):
            cursor.execute(
                "SELECT pg_get_constraintdef(c.oid) FROM pg_constraint c "
                "JOIN pg_namespace n ON n.oid = c.connamespace "
                "WHERE n.nspname = %s AND c.conname = 'booking_appointment_no_double_booking'",
                [practice.schema_name],
            )
            (definition,) = cursor.fetchone()
            assert definition.startswith("EXCLUDE USING gist (clinician_id WITH =, tstzrange(")


@pytest.fixture
def contest(committed_practice, django_db_blocker):
    """Committed rows: one clinician with hours, an instant service, twenty clients."""
    with django_db_blocker.unblock(), schema_context(committed_practice.schema_name):
        BookingSettings.objects.update_or_create(
            singleton=True, defaults={"enabled": True, "min_notice_hours": 1}
        )
        clinician = User.objects.create_user(
            "cleo@committed.test", full_name="Cleo Clinician", role=Role.CLINICIAN
        )
        WorkingHours.objects.create(
            clinician=clinician, weekday=2, start_time=time(9), end_time=time(17)
        )
        service = BookableService.objects.create(
            name="Session", duration_minutes=50, mode=BookableService.Mode.INSTANT
        )
        service.clinicians.add(clinician)
        clients = [
            Client.objects.create(
                legal_first_name="Client", legal_last_name=str(n), email=f"c{n}@committed.test"
            )
            for n in range(CONTENDERS)
        ]
    return committed_practice, service, clinician, clients


def test_twenty_connections_race_for_one_slot_and_exactly_one_wins(contest, django_db_blocker):
    practice, service, clinician, clients = contest
    barrier = threading.Barrier(CONTENDERS)
    outcomes: list[str] = []
    lock = threading.Lock()

    def contender(client: Client) -> None:
        try:
            with schema_context(practice.schema_name):
                barrier.wait(timeout=30)
                try:
                    services.book_appointment(
                        practice=practice,
                        client=client,
                        service=service,
                        clinician=clinician,
                        start_at=CONTESTED,
                        actor=None,
                    )
                    outcome = "booked"
                except services.SlotTaken as error:
                    outcome = error.messages[0]
                except services.BookingError as error:
                    outcome = error.messages[0]
            with lock:
                outcomes.append(outcome)
        finally:
            connection.close()

    with django_db_blocker.unblock(), time_machine.travel(A_WEEK_BEFORE, tick=False):
        threads = [threading.Thread(target=contender, args=(c,)) for c in clients]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        with schema_context(practice.schema_name):
            holding = list(
                Appointment.objects.filter(start_at=CONTESTED).values_list("status", flat=True)
            )

    counts = Counter(outcomes)
    assert len(outcomes) == CONTENDERS
    assert counts["booked"] == 1
    assert holding == ["confirmed"]
    # Everyone else was told plainly; most lost at the database, some (who checked after
    # the winner committed) at the check before it.
    assert set(counts) - {"booked"} <= {
        services.SLOT_TAKEN_MESSAGE,
        services.SLOT_UNAVAILABLE_MESSAGE,
    }


# Eleven o'clock in Chicago on the contested day: another time of the same clinician.
ELEVEN = CONTESTED + timedelta(hours=2)


def _wait_until_someone_waits_for(clinician: User) -> None:
    """Until a connection to this database waits for the clinician's calendar lock."""
    with connection.cursor() as cursor:
        for _ in range(600):
            cursor.execute(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
                " AND objid = %s AND objsubid = 2"
                " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
                [clinician.pk],
            )
            if cursor.fetchone()[0]:
                return
            threading.Event().wait(0.05)
    raise AssertionError("the second booking never waited for the calendar")


def _race_behind_an_open_booking(practice, service, clinician, clients, *, second_start):
    """Book the contested slot in a transaction that stays open until a second booking (of
    `second_start`) waits behind it; then commit, and return how the second one ended."""
    holding, release = threading.Event(), threading.Event()
    outcome: list[object] = []

    def first() -> None:
        try:
            with schema_context(practice.schema_name), transaction.atomic():
                services.book_appointment(
                    practice=practice,
                    client=clients[0],
                    service=service,
                    clinician=clinician,
                    start_at=CONTESTED,
                    actor=None,
                )
                holding.set()
                release.wait(timeout=30)
        finally:
            holding.set()
            connection.close()

    def second() -> None:
        try:
            with schema_context(practice.schema_name):
                services.book_appointment(
                    practice=practice,
                    client=clients[1],
                    service=service,
                    clinician=clinician,
                    start_at=second_start,
                    actor=None,
                )
                outcome.append("booked")
        except services.SlotTaken as error:
            outcome.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    threads[0].start()
    holding.wait(timeout=30)
    threads[1].start()
    try:
        _wait_until_someone_waits_for(clinician)
    finally:
        release.set()
        for thread in threads:
            thread.join(timeout=30)
    with schema_context(practice.schema_name):
        booked = sorted(
            Appointment.objects.filter(status="confirmed").values_list("start_at", flat=True)
        )
    return outcome, booked


def test_a_client_waiting_for_the_slot_is_refused_once_the_winner_commits(
    contest, django_db_blocker, caplog
):
    practice, service, clinician, clients = contest
    caplog.set_level(logging.DEBUG, logger="tenant_apps.booking.services")

    with django_db_blocker.unblock(), time_machine.travel(A_WEEK_BEFORE, tick=False):
        outcome, booked = _race_behind_an_open_booking(
            practice, service, clinician, clients, second_start=CONTESTED
        )

    assert booked == [CONTESTED]
    assert len(outcome) == 1 and isinstance(outcome[0], services.SlotTaken)
    assert outcome[0].messages == [services.SLOT_TAKEN_MESSAGE]
    # Refused by the look after waiting, without queueing to insert.
    messages = [record.getMessage() for record in caplog.records]
    assert f"Booking refused after waiting: clinician {clinician.pk} slot taken" in messages
    assert not any("refused by the database" in message for message in messages)


def test_a_client_waiting_behind_another_time_of_the_clinician_still_books(
    contest, django_db_blocker
):
    practice, service, clinician, clients = contest

    with django_db_blocker.unblock(), time_machine.travel(A_WEEK_BEFORE, tick=False):
        outcome, booked = _race_behind_an_open_booking(
            practice, service, clinician, clients, second_start=ELEVEN
        )

    assert outcome == ["booked"]
    assert booked == [CONTESTED, ELEVEN]


def test_a_booking_takes_a_few_queries_and_a_refusal_one(
    sunrise,
    bob,
    carol_record,
    dave_record,
    booking_on,
    session_service,
    frozen,
    django_assert_num_queries,
):
    tuesday_nine = datetime(2026, 2, 3, 14, tzinfo=UTC)
    with schema_context(sunrise.schema_name):
        BookingSettings.load()
        # The slot check, the calendar lock, the appointment, its email (the recipient and the
        # delivery row, in a savepoint) and the audit event; two savepoints because the test
        # runs inside a transaction.
        with django_assert_num_queries(10):
            services.book_appointment(
                practice=sunrise,
                client=carol_record,
                service=session_service,
                clinician=bob,
                start_at=tuesday_nine,
                actor=None,
            )
        # Once the slot is taken, the check alone refuses it.
        with django_assert_num_queries(1), pytest.raises(services.BookingError):
            services.book_appointment(
                practice=sunrise,
                client=dave_record,
                service=session_service,
                clinician=bob,
                start_at=tuesday_nine,
                actor=None,
            )
