"""Free slots from working hours, exceptions and busy time. Pure functions, no queries.

Slots are generated in local wall time, the way a practice states its hours ("9 to 5"), and
each wall time is converted to an instant on its own. On the spring-forward day the wall
times inside the gap do not exist and are skipped; on the fall-back day the repeated hour
offers each wall time once, at its first occurrence. A slot's length is real elapsed time.
"""

import bisect
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

Interval = tuple[datetime, datetime]


@dataclass(frozen=True)
class DayChange:
    """An exception to the weekly pattern on one local date. `start`/`end` None: all day."""

    kind: str  # "off" or "extra"
    start: time | None = None
    end: time | None = None


@dataclass(frozen=True)
class Rules:
    time_zone: ZoneInfo
    duration: timedelta
    buffer: timedelta
    interval: timedelta
    # The first and last instants a slot may start at (notice and horizon applied).
    earliest: datetime
    latest: datetime


def local_instant(day: date, wall: time, zone: ZoneInfo) -> datetime | None:
    """The UTC instant of a wall time on a local date; None if the wall time does not exist
    (the spring-forward gap). A repeated wall time (fall-back) gives its first occurrence."""
    candidate = datetime.combine(day, wall, tzinfo=zone)  # fold=0: the first occurrence
    instant = candidate.astimezone(UTC)
    if instant.astimezone(zone).replace(tzinfo=None) != candidate.replace(tzinfo=None):
        return None
    return instant


def _boundary(day: date, wall: time, zone: ZoneInfo) -> datetime:
    """An interval end in UTC; a wall time in the gap counts as the moment the gap ends."""
    instant = local_instant(day, wall, zone)
    if instant is not None:
        return instant
    return datetime.combine(day, wall, tzinfo=zone).astimezone(UTC)


def _subtract(
    intervals: list[tuple[time, time]], cut_start: time, cut_end: time
) -> list[tuple[time, time]]:
    kept = []
    for start, end in intervals:
        if cut_end <= start or end <= cut_start:
            kept.append((start, end))
            continue
        if start < cut_start:
            kept.append((start, cut_start))
        if cut_end < end:
            kept.append((cut_end, end))
    return kept


def working_intervals(
    day: date,
    weekly: Mapping[int, Sequence[tuple[time, time]]],
    changes: Sequence[DayChange],
) -> list[tuple[time, time]]:
    """The wall-time intervals a clinician works on `day`, exceptions applied."""
    intervals = list(weekly.get(day.weekday(), ()))
    for change in changes:
        if change.kind == "off":
            if change.start is None or change.end is None:
                intervals = []
            else:
                intervals = _subtract(intervals, change.start, change.end)
    for change in changes:
        if change.kind == "extra" and change.start is not None and change.end is not None:
            intervals = _subtract(intervals, change.start, change.end)
            intervals.append((change.start, change.end))
    return sorted(intervals)


class BusyTime:
    """Busy intervals merged into disjoint sorted runs, so one overlap test is a bisection."""

    def __init__(self, intervals: Iterable[Interval]) -> None:
        merged: list[list[datetime]] = []
        for start, end in sorted(intervals):
            if merged and start <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], end)
            else:
                merged.append([start, end])
        self._starts = [run[0] for run in merged]
        self._ends = [run[1] for run in merged]

    def overlaps(self, start: datetime, end: datetime) -> bool:
        # The last run starting before `end` is the only one that can reach into [start, end).
        index = bisect.bisect_left(self._starts, end) - 1
        return index >= 0 and self._ends[index] > start


def free_slots(
    rules: Rules,
    days: Iterable[date],
    *,
    weekly: Mapping[int, Sequence[tuple[time, time]]],
    changes: Mapping[date, Sequence[DayChange]],
    busy: BusyTime,
) -> list[datetime]:
    """Start instants (UTC) of every free slot on `days`, in order.

    A slot occupies [start, start + duration + buffer): its buffer must not touch busy time,
    the same range the database's exclusion constraint protects.
    """
    zone = rules.time_zone
    occupied = rules.duration + rules.buffer
    slots: list[datetime] = []
    for day in days:
        for wall_start, wall_end in working_intervals(day, weekly, changes.get(day, ())):
            closes = _boundary(day, wall_end, zone)
            first = local_instant(day, wall_start, zone)
            if (
                first is not None
                and first.astimezone(zone).utcoffset() == closes.astimezone(zone).utcoffset()
            ):
                # No clock change inside the interval (every day but two a year): wall-time
                # steps are real-time steps, so no per-slot zone conversion is needed.
                candidates = _steps(first, closes, rules)
            else:
                candidates = _wall_steps(day, wall_start, wall_end, closes, rules)
            for start in candidates:
                if rules.earliest <= start <= rules.latest and not busy.overlaps(
                    start, start + occupied
                ):
                    slots.append(start)
    return sorted(set(slots))


def _steps(first: datetime, closes: datetime, rules: Rules) -> Iterable[datetime]:
    start = first
    while start + rules.duration <= closes:
        yield start
        start += rules.interval


def _wall_steps(
    day: date, wall_start: time, wall_end: time, closes: datetime, rules: Rules
) -> Iterable[datetime]:
    """Step in wall time across a clock change: skip wall times in the gap, take repeated
    ones once (their first occurrence)."""
    zone = rules.time_zone
    cursor = datetime.combine(day, wall_start)
    last = datetime.combine(day, wall_end)
    while cursor < last:
        start = local_instant(day, cursor.time(), zone)
        cursor += rules.interval
        if start is None:
            continue
        if start + rules.duration > closes:
            break
        yield start
