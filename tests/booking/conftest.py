"""Booking fixtures: sunrise with online booking on, Bob's weekly hours, two services.

The clock is frozen at named instants (time-machine); every test picks the one it is about.
"""

from datetime import UTC, datetime, time

import pytest
import time_machine
from django_tenants.utils import schema_context

from shared_apps.plans.models import Plan
from tenant_apps.booking.models import BookableService, BookingSettings, WorkingHours
from tenants.hosts import forget_practice
from tenants.models import Practice
from tests.clients.conftest import (  # noqa: F401  (fixtures shared with the clients tests)
    biller,
    biller_browser,
    carol_record,
    dave_browser,
    dave_record,
    ivan_browser,
    ivan_record,
)

# A Monday morning in New York (EST, before the spring change): 9:00 local.
MONDAY_MORNING = datetime(2026, 2, 2, 14, 0, tzinfo=UTC)


@pytest.fixture
def frozen():
    """The clock stands still at MONDAY_MORNING unless a test travels elsewhere."""
    with time_machine.travel(MONDAY_MORNING, tick=False) as traveller:
        yield traveller


def enable_booking(practice: Practice, **values: object) -> BookingSettings:
    with schema_context(practice.schema_name):
        settings = BookingSettings.load()
        settings.enabled = True
        for name, value in values.items():
            setattr(settings, name, value)
        settings.save()
        return settings


@pytest.fixture
def booking_on(sunrise):
    return enable_booking(
        sunrise,
        min_notice_hours=24,
        max_horizon_days=60,
        buffer_minutes=10,
        slot_interval_minutes=60,
    )


@pytest.fixture
def bob_hours(sunrise, bob):
    """Bob works Monday to Friday, 9:00 to 17:00 New York time."""
    with schema_context(sunrise.schema_name):
        WorkingHours.objects.bulk_create(
            WorkingHours(clinician=bob, weekday=day, start_time=time(9), end_time=time(17))
            for day in range(5)
        )


@pytest.fixture
def session_service(sunrise, bob, bob_hours):
    """Booked at once."""
    with schema_context(sunrise.schema_name):
        service = BookableService.objects.create(
            name="Follow-up session",
            duration_minutes=50,
            fee=15000,
            mode=BookableService.Mode.INSTANT,
        )
        service.clinicians.add(bob)
        return service


@pytest.fixture
def consult_service(sunrise, bob, bob_hours):
    """Staff approve each request; new clients may book it."""
    with schema_context(sunrise.schema_name):
        service = BookableService.objects.create(
            name="First consultation",
            duration_minutes=30,
            fee=0,
            mode=BookableService.Mode.REQUEST,
            location="telehealth",
            new_clients_allowed=True,
        )
        service.clinicians.add(bob)
        return service


@pytest.fixture
def harbor_professional(harbor):
    """Harbor on the Professional plan with booking on, for cross-practice tests (rolled
    back with the test)."""
    Practice.objects.filter(pk=harbor.pk).update(plan=Plan.objects.get(code=Plan.PROFESSIONAL))
    forget_practice(harbor.pk)
    harbor.refresh_from_db()
    enable_booking(harbor)
    return harbor


@pytest.fixture
def after_commit(django_capture_on_commit_callbacks):
    """`with after_commit(): ...` runs what the block queued for after commit (the email
    tasks) when it ends, as a real commit would; tests run inside a transaction."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


def refresh(practice: Practice, *rows: object) -> None:
    """Reload rows of a practice (a request leaves the connection on whichever schema)."""
    with schema_context(practice.schema_name):
        for row in rows:
            row.refresh_from_db()  # type: ignore[attr-defined]
