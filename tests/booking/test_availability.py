"""Slot generation: wall-time hours, both DST switch days in two zones, notice and horizon,
exceptions and busy time."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django_tenants.utils import schema_context

from tenant_apps.booking import selectors
from tenant_apps.booking.availability import BusyTime, DayChange, Rules, free_slots
from tenant_apps.booking.models import (
    Appointment,
    AvailabilityException,
    BookableService,
    TimeBlock,
    WorkingHours,
)
from tests.booking.conftest import enable_booking

NEW_YORK = ZoneInfo("America/New_York")
LONDON = ZoneInfo("Europe/London")

# The four switch days of 2026 (all Sundays) and, for each, a moment on the Friday before.
NY_SPRING_FORWARD = date(2026, 3, 8)
NY_FALL_BACK = date(2026, 11, 1)
LONDON_SPRING_FORWARD = date(2026, 3, 29)
LONDON_FALL_BACK = date(2026, 10, 25)
SUNDAY = 6


def _friday_before(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day - timedelta(days=2), time(12), tzinfo=zone)


def _rules(zone: ZoneInfo, now: datetime, **overrides: object) -> Rules:
    values: dict[str, object] = {
        "time_zone": zone,
        "duration": timedelta(minutes=30),
        "buffer": timedelta(0),
        "interval": timedelta(minutes=30),
        "earliest": now,
        "latest": now + timedelta(days=60),
    }
    values.update(overrides)
    return Rules(**values)  # type: ignore[arg-type]


def _night_and_day_slots(zone: ZoneInfo, day: date) -> list[datetime]:
    """Sunday hours across the 1-2 a.m. switch (00:00-06:00) and a usual day (09:00-17:00)."""
    weekly = {SUNDAY: [(time(0), time(6)), (time(9), time(17))]}
    now = _friday_before(day, zone)
    return free_slots(_rules(zone, now), [day], weekly=weekly, changes={}, busy=BusyTime([]))


def _walls(slots: list[datetime], zone: ZoneInfo) -> list[str]:
    return [f"{slot.astimezone(zone):%H:%M}" for slot in slots]


def _every_half_hour(first: datetime, count: int) -> list[datetime]:
    return [first + timedelta(minutes=30 * n) for n in range(count)]


@pytest.mark.parametrize(
    ("zone", "day", "gap"),
    [
        (NEW_YORK, NY_SPRING_FORWARD, ["02:00", "02:30"]),
        (LONDON, LONDON_SPRING_FORWARD, ["01:00", "01:30"]),
    ],
)
def test_the_spring_forward_day_skips_the_hour_that_does_not_exist(zone, day, gap):
    slots = _night_and_day_slots(zone, day)
    night = [s for s in slots if s.astimezone(zone).hour < 9]
    day_slots = [s for s in slots if s.astimezone(zone).hour >= 9]

    walls = _walls(night, zone)
    assert not set(gap) & set(walls)
    assert len(walls) == len(set(walls)) == 12 - 2
    # Six wall hours minus the missing one: five real hours of slots, 30 minutes apart.
    assert night == _every_half_hour(night[0], 10)
    assert night[0] == datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)
    # The working day after the switch is whole and on summer time.
    assert _walls(day_slots, zone) == [f"{h:02d}:{m:02d}" for h in range(9, 17) for m in (0, 30)]
    assert day_slots[0].utcoffset() == timedelta(0)
    assert day_slots[0] == datetime.combine(day, time(9), tzinfo=zone).astimezone(UTC)
    assert day_slots[0].astimezone(zone).dst() == timedelta(hours=1)


@pytest.mark.parametrize(
    ("zone", "day", "repeated"),
    [(NEW_YORK, NY_FALL_BACK, ["01:00", "01:30"]), (LONDON, LONDON_FALL_BACK, ["01:00", "01:30"])],
)
def test_the_fall_back_day_offers_the_repeated_hour_once(zone, day, repeated):
    slots = _night_and_day_slots(zone, day)
    night = [s for s in slots if s.astimezone(zone).hour < 9]
    day_slots = [s for s in slots if s.astimezone(zone).hour >= 9]

    walls = _walls(night, zone)
    assert walls == [f"{h:02d}:{m:02d}" for h in range(6) for m in (0, 30)]
    for wall in repeated:
        assert walls.count(wall) == 1
    # The repeated wall times are their first occurrence, still on summer time.
    first_one = night[walls.index("01:00")].astimezone(zone)
    assert first_one.dst() == timedelta(hours=1) and first_one.fold == 0
    assert len(set(night)) == len(night)
    assert _walls(day_slots, zone) == [f"{h:02d}:{m:02d}" for h in range(9, 17) for m in (0, 30)]
    assert day_slots[0].astimezone(zone).dst() == timedelta(0)
    assert day_slots[0] == datetime.combine(day, time(9), tzinfo=zone).astimezone(UTC)


def test_a_slot_that_straddles_the_gap_lasts_its_real_length():
    weekly = {SUNDAY: [(time(1), time(4))]}
    now = _friday_before(NY_SPRING_FORWARD, NEW_YORK)
    rules = _rules(NEW_YORK, now, duration=timedelta(minutes=50), interval=timedelta(hours=1))
    slots = free_slots(rules, [NY_SPRING_FORWARD], weekly=weekly, changes={}, busy=BusyTime([]))
    # 01:00 EST and 03:00 EDT (the wall time 02:00 does not exist), one real hour apart.
    assert _walls(slots, NEW_YORK) == ["01:00", "03:00"]
    assert slots[1] - slots[0] == timedelta(hours=1)


def test_no_slot_in_the_past_or_inside_the_minimum_notice():
    now = datetime(2026, 3, 9, 10, 15, tzinfo=NEW_YORK)
    rules = _rules(NEW_YORK, now, earliest=now + timedelta(hours=2))
    weekly = {0: [(time(9), time(17))]}
    slots = free_slots(rules, [now.date()], weekly=weekly, changes={}, busy=BusyTime([]))
    assert _walls(slots, NEW_YORK)[0] == "12:30"
    assert all(slot >= now + timedelta(hours=2) for slot in slots)


def test_exceptions_and_busy_time_subtract_and_extra_hours_add():
    monday = date(2026, 3, 9)
    now = datetime(2026, 3, 1, tzinfo=NEW_YORK)
    weekly = {0: [(time(9), time(12))]}
    changes = {
        monday: [
            DayChange("off", time(10), time(11)),
            DayChange("extra", time(18), time(19)),
        ]
    }
    busy_start = datetime.combine(monday, time(11), tzinfo=NEW_YORK).astimezone(UTC)
    busy = BusyTime([(busy_start, busy_start + timedelta(minutes=40))])
    rules = _rules(NEW_YORK, now, buffer=timedelta(minutes=10))
    slots = free_slots(rules, [monday], weekly=weekly, changes=changes, busy=busy)
    # 09:30 would end with its buffer at 10:10, inside the hour off; 11:00 and 11:30 meet
    # the busy time (11:00-11:40); 18:30 + 30 min + buffer is fine, its end is 19:00.
    assert _walls(slots, NEW_YORK) == ["09:00", "09:30", "18:00", "18:30"]


def test_a_whole_day_off_leaves_no_slot():
    monday = date(2026, 3, 9)
    now = datetime(2026, 3, 1, tzinfo=NEW_YORK)
    slots = free_slots(
        _rules(NEW_YORK, now),
        [monday],
        weekly={0: [(time(9), time(17))]},
        changes={monday: [DayChange("off")]},
        busy=BusyTime([]),
    )
    assert slots == []


# Through the database, in each practice's own zone ----------------------------------------


@pytest.fixture
def sunday_service(sunrise, bob):
    with schema_context(sunrise.schema_name):
        WorkingHours.objects.create(
            clinician=bob, weekday=SUNDAY, start_time=time(9), end_time=time(12)
        )
        service = BookableService.objects.create(name="Session", duration_minutes=60)
        service.clinicians.add(bob)
        return service


@pytest.mark.parametrize("day", [NY_SPRING_FORWARD, NY_FALL_BACK])
def test_sunrise_offers_nine_to_noon_on_new_york_switch_days(
    sunrise, bob, booking_on, sunday_service, day
):
    with (
        time_machine.travel(_friday_before(day, NEW_YORK), tick=False),
        schema_context(sunrise.schema_name),
    ):
        days = selectors.free_slots_for(
            sunrise,
            sunday_service,
            bob,
            first_day=day,
            last_day=day,
            now=datetime.now(UTC),
        )
    (entry,) = days
    assert [slot.astimezone(NEW_YORK).strftime("%H:%M %Z") for slot in entry.slots] == [
        f"{h:02d}:00 {'EDT' if day == NY_SPRING_FORWARD else 'EST'}" for h in (9, 10, 11)
    ]


@pytest.mark.parametrize("day", [LONDON_SPRING_FORWARD, LONDON_FALL_BACK])
def test_harbor_offers_the_night_hours_on_london_switch_days(harbor_professional, hana, day):
    enable_booking(harbor_professional, slot_interval_minutes=60)
    with schema_context(harbor_professional.schema_name):
        WorkingHours.objects.create(
            clinician=hana, weekday=SUNDAY, start_time=time(0), end_time=time(3)
        )
        service = BookableService.objects.create(name="Session", duration_minutes=60)
        service.clinicians.add(hana)
        with time_machine.travel(_friday_before(day, LONDON), tick=False):
            (entry,) = selectors.free_slots_for(
                harbor_professional,
                service,
                hana,
                first_day=day,
                last_day=day,
                now=datetime.now(UTC),
            )
    labels = [slot.astimezone(LONDON).strftime("%H:%M %Z") for slot in entry.slots]
    if day == LONDON_SPRING_FORWARD:
        # 01:00 does not exist; 00:00 GMT ends at 02:00 BST (one real hour later).
        assert labels == ["00:00 GMT", "02:00 BST"]
    else:
        # 01:00 is offered once (BST); 02:00 GMT is two real hours after 01:00 BST.
        assert labels == ["00:00 BST", "01:00 BST", "02:00 GMT"]


def test_the_horizon_and_the_notice_bound_the_days_offered(
    sunrise, bob, booking_on, session_service, frozen
):
    with schema_context(sunrise.schema_name):
        days = selectors.free_slots_for(
            sunrise,
            session_service,
            bob,
            first_day=date(2026, 1, 1),
            last_day=date(2026, 12, 31),
            now=datetime.now(UTC),
        )
    now = datetime.now(UTC)
    first, last = days[0].slots[0], days[-1].slots[-1]
    assert first >= now + timedelta(hours=24)
    assert first == datetime(2026, 2, 3, 9, tzinfo=NEW_YORK)  # Tuesday 9:00, 24 h ahead
    assert last <= now + timedelta(days=60)
    assert days[-1].day == date(2026, 4, 3)


def test_appointments_with_their_buffer_and_blocked_time_are_not_offered(
    sunrise, bob, carol_record, booking_on, session_service, frozen
):
    tuesday = date(2026, 2, 3)
    at = lambda hour: datetime.combine(tuesday, time(hour), tzinfo=NEW_YORK)  # noqa: E731
    with schema_context(sunrise.schema_name):
        Appointment.objects.create(
            client=carol_record,
            clinician=bob,
            start_at=at(10),
            end_at=at(10) + timedelta(minutes=50),
            blocks_until=at(11) + timedelta(minutes=10),
            status="confirmed",
            source="staff",
        )
        Appointment.objects.create(
            client=carol_record,
            clinician=bob,
            start_at=at(12),
            end_at=at(13),
            blocks_until=at(13),
            status="cancelled",
            source="staff",
        )
        TimeBlock.objects.create(clinician=bob, start_at=at(14), end_at=at(16))
        AvailabilityException.objects.create(
            clinician=bob, date=tuesday, kind="off", start_time=time(16), end_time=time(17)
        )
        (entry,) = selectors.free_slots_for(
            sunrise,
            session_service,
            bob,
            first_day=tuesday,
            last_day=tuesday,
            now=datetime.now(UTC),
        )
    # 9:00 + 50 min + 10 min buffer ends at 10:00 exactly; 11:00 is inside the first
    # appointment's buffer; the cancelled one frees 12:00; 14-16 blocked, 16-17 off.
    assert [f"{s.astimezone(NEW_YORK):%H:%M}" for s in entry.slots] == ["09:00", "12:00", "13:00"]


# Notice and horizon on the four switch days ------------------------------------------------
#
# Sunday hours 00:00-06:00, 30-minute slots every 30 minutes, one hour of notice and one day of
# horizon. Both are elapsed time, so across the switch their ends fall an hour away, on the
# wall clock, from where "now plus N" on the wall clock would put them.


def _sunday_night(request, practice_fixture: str, clinician_fixture: str, now: datetime):
    practice = request.getfixturevalue(practice_fixture)
    clinician = request.getfixturevalue(clinician_fixture)
    enable_booking(
        practice,
        min_notice_hours=1,
        max_horizon_days=1,
        buffer_minutes=0,
        slot_interval_minutes=30,
    )
    with schema_context(practice.schema_name):
        WorkingHours.objects.create(
            clinician=clinician, weekday=SUNDAY, start_time=time(0), end_time=time(6)
        )
        service = BookableService.objects.create(name="Check-in", duration_minutes=30)
        service.clinicians.add(clinician)
        days = selectors.free_slots_for(
            practice,
            service,
            clinician,
            first_day=now.date() - timedelta(days=1),
            last_day=now.date() + timedelta(days=3),
            now=now.astimezone(UTC),
        )
    return [slot for entry in days for slot in entry.slots]


def _labels(slots: list[datetime], zone: ZoneInfo) -> list[str]:
    return [slot.astimezone(zone).strftime("%H:%M %Z") for slot in slots]


def _assert_within(slots: list[datetime], now: datetime) -> None:
    now = now.astimezone(UTC)  # elapsed-time arithmetic; in its own zone it would be wall time
    assert slots, "no slot offered"
    assert len(set(slots)) == len(slots)
    assert all(now + timedelta(hours=1) <= slot <= now + timedelta(days=1) for slot in slots)


BOOKERS = {NEW_YORK: ("sunrise", "bob"), LONDON: ("harbor_professional", "hana")}


@pytest.mark.parametrize(
    ("zone", "now", "expected"),
    [
        # 01:15 EST + 1 h is 03:15 EDT: the wall clock jumps from 02:00 to 03:00.
        (
            NEW_YORK,
            datetime(2026, 3, 8, 1, 15, tzinfo=NEW_YORK),
            ["03:30 EDT", "04:00 EDT", "04:30 EDT", "05:00 EDT", "05:30 EDT"],
        ),
        # 01:15 EDT + 1 h is 01:15 EST, in the repeated hour, whose times are offered once
        # (their first, EDT, occurrence, already past): the next slot is 02:00 EST.
        (
            NEW_YORK,
            datetime(2026, 11, 1, 1, 15, tzinfo=NEW_YORK),
            [
                "02:00 EST",
                "02:30 EST",
                "03:00 EST",
                "03:30 EST",
                "04:00 EST",
                "04:30 EST",
                "05:00 EST",
                "05:30 EST",
            ],
        ),
        # 00:15 GMT + 1 h is 02:15 BST: 01:00-02:00 does not exist.
        (
            LONDON,
            datetime(2026, 3, 29, 0, 15, tzinfo=LONDON),
            [
                "02:30 BST",
                "03:00 BST",
                "03:30 BST",
                "04:00 BST",
                "04:30 BST",
                "05:00 BST",
                "05:30 BST",
            ],
        ),
        # 01:15 BST + 1 h is 01:15 GMT, in the repeated hour.
        (
            LONDON,
            datetime(2026, 10, 25, 1, 15, tzinfo=LONDON),
            [
                "02:00 GMT",
                "02:30 GMT",
                "03:00 GMT",
                "03:30 GMT",
                "04:00 GMT",
                "04:30 GMT",
                "05:00 GMT",
                "05:30 GMT",
            ],
        ),
    ],
)
def test_on_a_switch_day_nothing_past_or_inside_the_notice_is_offered(request, zone, now, expected):
    slots = _sunday_night(request, *BOOKERS[zone], now)

    assert _labels(slots, zone) == expected
    _assert_within(slots, now)


@pytest.mark.parametrize(
    ("zone", "now", "expected"),
    [
        # Saturday 03:10 EST + 1 day is Sunday 08:10 UTC, 04:10 EDT.
        (
            NEW_YORK,
            datetime(2026, 3, 7, 3, 10, tzinfo=NEW_YORK),
            [
                "00:00 EST",
                "00:30 EST",
                "01:00 EST",
                "01:30 EST",
                "03:00 EDT",
                "03:30 EDT",
                "04:00 EDT",
            ],
        ),
        # Saturday 03:10 EDT + 1 day is Sunday 07:10 UTC, 02:10 EST.
        (
            NEW_YORK,
            datetime(2026, 10, 31, 3, 10, tzinfo=NEW_YORK),
            ["00:00 EDT", "00:30 EDT", "01:00 EDT", "01:30 EDT", "02:00 EST"],
        ),
        # Saturday 03:10 GMT + 1 day is Sunday 03:10 UTC, 04:10 BST.
        (
            LONDON,
            datetime(2026, 3, 28, 3, 10, tzinfo=LONDON),
            [
                "00:00 GMT",
                "00:30 GMT",
                "02:00 BST",
                "02:30 BST",
                "03:00 BST",
                "03:30 BST",
                "04:00 BST",
            ],
        ),
        # Saturday 03:10 BST + 1 day is Sunday 02:10 UTC, 02:10 GMT.
        (
            LONDON,
            datetime(2026, 10, 24, 3, 10, tzinfo=LONDON),
            ["00:00 BST", "00:30 BST", "01:00 BST", "01:30 BST", "02:00 GMT"],
        ),
    ],
)
def test_on_a_switch_day_the_horizon_ends_a_real_day_after_now(request, zone, now, expected):
    slots = _sunday_night(request, *BOOKERS[zone], now)

    assert _labels(slots, zone) == expected
    _assert_within(slots, now)
