import pytest
from django.core.exceptions import ValidationError

from tenants.slugs import validate_slug


@pytest.mark.parametrize(
    "value, expected",
    [
        ("sunrise", "sunrise"),
        ("Sunrise", "sunrise"),
        ("  dr-lee-2  ", "dr-lee-2"),
        ("abc", "abc"),
        ("a" * 40, "a" * 40),
        ("9lives", "9lives"),
    ],
)
def test_it_accepts_and_normalizes_valid_slugs(value, expected):
    assert validate_slug(value) == expected


@pytest.mark.parametrize(
    "value, code",
    [
        ("ab", "length"),
        ("a" * 41, "length"),
        ("-sunrise", "format"),
        ("sunrise-", "format"),
        ("sun--rise", "format"),
        ("sun_rise", "format"),
        ("sun.rise", "format"),
        ("sun rise", "format"),
        ("süd", "format"),
        ("www", "reserved"),
        ("api", "reserved"),
        ("admin", "reserved"),
        ("app", "reserved"),
        ("mail", "reserved"),
        ("static", "reserved"),
        ("media", "reserved"),
        ("portal", "reserved"),
        ("help", "reserved"),
        ("support", "reserved"),
        ("status", "reserved"),
        ("billing", "reserved"),
        ("WWW", "reserved"),
        ("localhost", "reserved"),
    ],
)
def test_it_rejects_invalid_slugs_with_a_reason(value, code):
    with pytest.raises(ValidationError) as caught:
        validate_slug(value)
    assert caught.value.code == code
    assert caught.value.messages[0]
