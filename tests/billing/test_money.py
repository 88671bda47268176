"""Amounts are integer minor units; the currency's exponent decides parsing and display."""

import pytest
from django.core.exceptions import ValidationError
from django.template import Context, Template

from tenant_apps.billing.money import apply_rate, decimal_string, format_amount, parse_amount


@pytest.mark.parametrize(
    ("raw", "currency", "minor"),
    [
        ("150.00", "USD", 15000),
        ("150", "USD", 15000),
        ("$1,234.5", "USD", 123450),
        ("0.01", "USD", 1),
        ("5000", "JPY", 5000),
        ("¥5,000", "JPY", 5000),
        ("1.234", "KWD", 1234),
        ("1,000,000.00", "USD", 100_000_000),
    ],
)
def test_it_parses_what_people_type_into_minor_units(raw, currency, minor):
    parsed = parse_amount(raw, currency)
    assert parsed == minor
    assert type(parsed) is int


@pytest.mark.parametrize(
    ("raw", "currency", "message"),
    [
        ("150.005", "USD", "USD amounts have at most 2 decimal places."),
        ("5000.5", "JPY", "JPY amounts have no decimal places."),
        ("abc", "USD", "Enter an amount, such as 150.00."),
        ("NaN", "USD", "Enter an amount, such as 150.00."),
        ("99999999999999999999.99", "USD", "Enter an amount of at most $1,000,000.00."),
        ("1000000.01", "USD", "Enter an amount of at most $1,000,000.00."),
        ("-1e30", "USD", "Enter an amount of at most $1,000,000.00."),
        ("1000001", "JPY", "Enter an amount of at most ¥1,000,000."),
        ("1e999999", "KWD", "Enter an amount of at most 1,000,000.000 KWD."),
    ],
)
def test_it_rejects_amounts_the_currency_cannot_hold(raw, currency, message):
    with pytest.raises(ValidationError) as error:
        parse_amount(raw, currency)
    assert error.value.messages == [message]


def test_it_formats_by_the_currency_exponent():
    assert format_amount(15000, "USD") == "$150.00"
    assert format_amount(5000, "JPY") == "¥5,000"
    assert format_amount(-123450, "USD") == "-$1,234.50"
    assert format_amount(1234, "KWD") == "1.234 KWD"
    assert decimal_string(5000, "JPY") == "5000"
    assert decimal_string(15000, "USD") == "150.00"


def test_it_refuses_a_float_amount():
    with pytest.raises(TypeError):
        format_amount(150.0, "USD")  # type: ignore[arg-type]


def test_the_template_filter_honours_the_exponent():
    template = Template("{% load money %}{{ a|money:'USD' }} {{ b|money:'JPY' }}")
    assert template.render(Context({"a": 15000, "b": 15000})) == "$150.00 ¥15,000"


def test_tax_is_rounded_half_up_in_integers():
    assert apply_rate(15000, 825) == 1238  # 1237.5
    assert apply_rate(100, 825) == 8  # 8.25
    assert apply_rate(5000, 1000) == 500
