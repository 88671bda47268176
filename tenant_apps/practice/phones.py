"""Phone numbers as typed by people, stored in E.164 form (what `tel:` links and SMS need)."""

import phonenumbers
from django.core.exceptions import ValidationError

INVALID_MESSAGE = "Enter a valid phone number, including the area code."
EXTENSION_MESSAGE = "Enter the number without an extension: only the main number is kept."


def normalize_phone(raw: str, region: str = "US") -> str:
    """E.164 form of a phone number read in `region`, "" for nothing typed, or
    ValidationError with a message for people. An extension is refused rather than dropped,
    since E.164 has no place for it."""
    raw = raw.strip()
    if not raw:
        return ""
    try:
        number = phonenumbers.parse(raw, region or "US")
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_valid_number(number):
        raise ValidationError(INVALID_MESSAGE)
    if number.extension:
        raise ValidationError(EXTENSION_MESSAGE)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
