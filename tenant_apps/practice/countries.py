"""Country codes: the ISO 3166-1 alpha-2 codes of the regions phonenumbers knows.

A practice's or client's country is also the region their phone numbers are read in, so a code
is useful only where phonenumbers has a numbering plan. Its list holds every inhabited ISO
country and territory, plus Ascension Island (AC) and Tristan da Cunha (TA), which ISO only
reserves; those two are left out. Kosovo's XK, user-assigned in ISO but in general use, stays.
"""

import phonenumbers
from django.core.exceptions import ValidationError

COUNTRY_CODES = frozenset(phonenumbers.SUPPORTED_REGIONS - {"AC", "TA"})


def clean_country_code(raw: str) -> str:
    """The upper-case code of a known country, or ValidationError with a message for people."""
    value = raw.strip().upper()
    if len(value) != 2 or not value.isalpha():
        raise ValidationError("Use the two-letter country code, such as US or GB.")
    if value not in COUNTRY_CODES:
        raise ValidationError(f"{value} is not a country code. Use one such as US or GB.")
    return value
