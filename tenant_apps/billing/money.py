"""Money in integer minor units: parsing what people type, and formatting for display.

Amounts never pass through float. A currency's exponent (how many minor units make one major
unit) decides both: JPY has none, USD two, KWD three.
"""

from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError

# ISO 4217 currencies whose exponent is not 2. Everything else has cents.
_EXPONENTS = {
    "BIF": 0, "CLP": 0, "DJF": 0, "GNF": 0, "ISK": 0, "JPY": 0, "KMF": 0, "KRW": 0, "PYG": 0,
    "RWF": 0, "UGX": 0, "VND": 0, "VUV": 0, "XAF": 0, "XOF": 0, "XPF": 0,
    "BHD": 3, "IQD": 3, "JOD": 3, "KWD": 3, "LYD": 3, "OMR": 3, "TND": 3,
}  # fmt: skip
_SYMBOLS = {"USD": "$", "CAD": "CA$", "AUD": "A$", "GBP": "£", "EUR": "€", "JPY": "¥", "INR": "₹"}

# The largest amount anyone may type, in major units. Far above a practice's fees and payments,
# and small enough that 50 invoice lines of 100 units each stay well inside the ledger's BIGINT
# columns in every currency.
MAX_AMOUNT = Decimal(1_000_000)


def exponent(currency: str) -> int:
    return _EXPONENTS.get(currency.upper(), 2)


def max_amount(currency: str) -> int:
    """MAX_AMOUNT in the currency's minor units."""
    return int(MAX_AMOUNT.scaleb(exponent(currency)))


def parse_amount(raw: str, currency: str) -> int:
    """'150.00' in USD is 15000; '5000' in JPY is 5000. Raises ValidationError for people,
    also for an amount beyond MAX_AMOUNT either side of zero."""
    text = raw.strip().replace(",", "").lstrip(_SYMBOLS.get(currency.upper(), "$")).strip()
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise ValidationError("Enter an amount, such as 150.00.") from None
    if not value.is_finite():
        raise ValidationError("Enter an amount, such as 150.00.")
    if abs(value) > MAX_AMOUNT:
        limit = format_amount(max_amount(currency), currency)
        raise ValidationError(f"Enter an amount of at most {limit}.")
    places = exponent(currency)
    minor = value.scaleb(places)
    if minor != minor.to_integral_value():
        if places == 0:
            raise ValidationError(f"{currency} amounts have no decimal places.")
        raise ValidationError(f"{currency} amounts have at most {places} decimal places.")
    return int(minor)


def format_amount(minor: int, currency: str, *, symbol: bool = True) -> str:
    """15000 USD is '$150.00'; -5000 JPY is '-¥5,000'."""
    if isinstance(minor, float) or not isinstance(minor, int):
        raise TypeError("Amounts are integer minor units")
    places = exponent(currency)
    major = Decimal(abs(minor)).scaleb(-places)
    number = f"{major:,.{places}f}"
    code = currency.upper()
    prefix = _SYMBOLS.get(code, "") if symbol else ""
    text = f"{prefix}{number}" if prefix else f"{number} {code}" if symbol else number
    return f"-{text}" if minor < 0 else text


def decimal_string(minor: int, currency: str) -> str:
    """What a form shows for an amount: '150.00', '5000'."""
    return format_amount(minor, currency, symbol=False).replace(",", "")


def apply_rate(minor: int, basis_points: int) -> int:
    """`minor` * basis_points / 10000, rounded half up, in integers only."""
    return (minor * basis_points + 5000) // 10000
