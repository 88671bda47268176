"""`{{ amount|money:currency }}`: integer minor units shown in the currency's own form."""

from django import template

from tenant_apps.billing.money import format_amount

register = template.Library()


@register.filter
def money(minor: int | None, currency: str = "USD") -> str:
    if minor is None:
        return "—"
    return format_amount(minor, currency or "USD")
