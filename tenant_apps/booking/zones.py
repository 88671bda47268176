"""Time zones for display: the practice's zone always, the client's own zone beside it.

The client's zone comes from the browser (`Intl.DateTimeFormat().resolvedOptions().timeZone`),
sent as a `tz` parameter by the portal's booking pages and kept on the session.
"""

from datetime import UTC, datetime
from functools import cache
from zoneinfo import ZoneInfo, available_timezones

from django.http import HttpRequest

from tenants.models import Practice

SESSION_KEY = "booking_client_time_zone"


@cache
def _known_zones() -> frozenset[str]:
    return frozenset(available_timezones())


def practice_zone(practice: Practice) -> ZoneInfo:
    return ZoneInfo(practice.time_zone)


def parse_zone(name: str | None) -> ZoneInfo | None:
    if not name or name not in _known_zones():
        return None
    return ZoneInfo(name)


def remember_client_zone(request: HttpRequest) -> None:
    """Keep the zone the browser sent, if it is a real IANA name."""
    zone = parse_zone(request.GET.get("tz") or request.POST.get("tz"))
    if zone is not None and request.session.get(SESSION_KEY) != zone.key:
        request.session[SESSION_KEY] = zone.key


def client_zone(request: HttpRequest, practice: Practice) -> ZoneInfo | None:
    """The client's own zone when it differs from the practice's; None when they agree."""
    zone = parse_zone(request.session.get(SESSION_KEY))
    if zone is None or zone.key == practice.time_zone:
        return None
    return zone


def on_clock(moment: datetime, zone: ZoneInfo) -> datetime:
    """The moment on the zone's clock; in UTC for an instant so close to the first or last
    date Python holds that the zone's date would fall outside (a stored row can be anything,
    and showing it must not fail)."""
    try:
        return moment.astimezone(zone)
    except OverflowError:
        return moment.astimezone(UTC)


def format_time(moment: datetime, zone: ZoneInfo) -> str:
    """'9:30 AM EDT': a time labelled with the zone's abbreviation on that date."""
    local = on_clock(moment, zone)
    return f"{local:%-I:%M %p} {local.tzname()}"


def format_moment(moment: datetime, zone: ZoneInfo) -> str:
    """'Monday, March 9, 2026, 9:30 AM EDT'."""
    local = on_clock(moment, zone)
    return f"{local:%A, %B %-d, %Y}, {format_time(moment, zone)}"
