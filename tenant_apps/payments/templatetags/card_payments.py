"""Whether the practice takes card payments, for billing pages that link to paying."""

from django import template

from shared_apps.payments.selectors import connection_status
from tenants.schemas import current_practice

register = template.Library()


@register.simple_tag
def takes_card_payments() -> bool:
    return connection_status(current_practice()).cards_available
