"""Times shown in a named zone and labelled: `{{ moment|in_zone:practice_zone }}`."""

from datetime import datetime
from zoneinfo import ZoneInfo

from django import template

from tenant_apps.booking.zones import format_moment, format_time, on_clock

register = template.Library()


@register.filter
def in_zone(moment: datetime | None, zone: ZoneInfo | None) -> str:
    if moment is None or zone is None:
        return ""
    return format_moment(moment, zone)


@register.filter
def time_in_zone(moment: datetime | None, zone: ZoneInfo | None) -> str:
    if moment is None or zone is None:
        return ""
    return format_time(moment, zone)


@register.filter
def local_date(moment: datetime | None, zone: ZoneInfo | None) -> str:
    if moment is None or zone is None:
        return ""
    return f"{on_clock(moment, zone):%a %b %-d}"


@register.filter
def minor_units(amount: int | None, currency: str) -> str:
    """2500, 'USD' -> 'USD 25.00'. Two-decimal currencies only, which is all we support."""
    if amount is None:
        return ""
    return f"{currency} {amount // 100:,}.{amount % 100:02d}"
