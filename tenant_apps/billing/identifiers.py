"""Provider identifiers: NPI (with its check digit), taxonomy codes, EIN and SSN."""

import re

from django.core.exceptions import ValidationError

TAXONOMY_FORMAT = re.compile(r"^[0-9]{3}[0-9A-Z]{6}X$")
EIN_FORMAT = re.compile(r"^\d{2}-?\d{7}$")
SSN_FORMAT = re.compile(r"^\d{3}-?\d{2}-?\d{4}$")


def npi_check_digit_ok(npi: str) -> bool:
    """The Luhn check over the NPI prefixed with 80840, as CMS specifies."""
    if not re.fullmatch(r"\d{10}", npi):
        return False
    total = 0
    for position, char in enumerate(reversed("80840" + npi)):
        digit = int(char)
        if position % 2 == 1:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return total % 10 == 0


def validate_npi(value: str) -> str:
    npi = value.strip().replace(" ", "")
    if not re.fullmatch(r"\d{10}", npi):
        raise ValidationError("An NPI has exactly 10 digits.")
    if npi[0] not in "12":
        raise ValidationError("An NPI starts with 1 or 2.")
    if not npi_check_digit_ok(npi):
        raise ValidationError(
            f"{npi} is not a valid NPI: its check digit does not match. Check for a typo."
        )
    return npi


def validate_taxonomy(value: str) -> str:
    code = value.strip().upper()
    if not TAXONOMY_FORMAT.match(code):
        raise ValidationError(
            "A taxonomy code has 10 characters ending in X, for example 101YM0800X."
        )
    return code


def normalize_tax_id(value: str, kind: str) -> str:
    """Digits only, after checking the form of an EIN (12-3456789) or SSN (123-45-6789)."""
    raw = value.strip()
    if kind == "ein":
        if not EIN_FORMAT.match(raw):
            raise ValidationError("An EIN has nine digits, written 12-3456789.")
    elif not SSN_FORMAT.match(raw):
        raise ValidationError("An SSN has nine digits, written 123-45-6789.")
    digits = re.sub(r"\D", "", raw)
    if kind == "ssn" and (digits[:3] in {"000", "666"} or digits[0] == "9"):
        raise ValidationError("That is not a valid SSN.")
    return digits


def format_tax_id(digits: str, kind: str) -> str:
    if kind == "ein":
        return f"{digits[:2]}-{digits[2:]}"
    return f"{digits[:3]}-{digits[3:5]}-{digits[5:]}"


def mask_tax_id(last4: str, kind: str) -> str:
    if not last4:
        return ""
    return f"••-•••{last4}" if kind == "ein" else f"•••-••-{last4}"
