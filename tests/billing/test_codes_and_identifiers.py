"""Code lists and provider identifiers reject bad input with a message a person can act on."""

import pytest
from django.core.exceptions import ValidationError

from tenant_apps.billing import codes, crypto
from tenant_apps.billing.identifiers import (
    mask_tax_id,
    normalize_tax_id,
    validate_npi,
    validate_taxonomy,
)


def test_it_accepts_a_valid_npi():
    # CMS's worked example of the check digit.
    assert validate_npi("1234567893") == "1234567893"
    assert validate_npi(" 1245319599 ") == "1245319599"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("1234567890", "1234567890 is not a valid NPI: its check digit does not match."),
        ("123456789", "An NPI has exactly 10 digits."),
        ("12345678AB", "An NPI has exactly 10 digits."),
        ("3234567893", "An NPI starts with 1 or 2."),
    ],
)
def test_it_rejects_a_bad_npi_with_a_clear_message(value, message):
    with pytest.raises(ValidationError) as error:
        validate_npi(value)
    assert message in error.value.messages[0]


def test_it_accepts_icd10_codes_from_the_shipped_list_in_any_case_or_without_the_dot():
    assert codes.validate_icd10("F41.1") == "F41.1"
    assert codes.validate_icd10("f4323") == "F43.23"
    assert codes.validate_icd10("Z63.0") == "Z63.0"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("41.1", "“41.1” is not an ICD-10-CM code"),
        ("F41.12345", "is not an ICD-10-CM code"),
        ("F43.2", "F43.2 is not in this practice's ICD-10-CM list"),
        ("A00.0", "A00.0 is not in this practice's ICD-10-CM list"),
    ],
)
def test_it_rejects_bad_icd10_codes_with_a_clear_message(value, message):
    with pytest.raises(ValidationError) as error:
        codes.validate_icd10(value)
    assert message in error.value.messages[0]


def test_it_reads_the_full_cms_list_when_configured(tmp_path, settings):
    cms = tmp_path / "icd10cm-codes-2026.txt"
    cms.write_text("A000    Cholera due to Vibrio cholerae 01, biovar cholerae\nF411    GAD\n")
    settings.BILLING_ICD10CM_FILE = str(cms)
    codes.icd10_codes.cache_clear()
    try:
        assert codes.validate_icd10("A00.0") == "A00.0"
    finally:
        codes.icd10_codes.cache_clear()


def test_cpt_codes_are_validated_by_format_and_searchable():
    assert codes.validate_cpt("90834") == "90834"
    assert codes.validate_cpt("0591t") == "0591T"
    with pytest.raises(ValidationError) as error:
        codes.validate_cpt("9083")
    assert "is not a CPT code" in error.value.messages[0]
    found = codes.search(codes.cpt_codes(), "psychotherapy 60")
    assert "90837" in [code.code for code in found]


def test_modifiers_and_taxonomy_are_validated():
    assert codes.validate_modifiers("95, ho") == "95,HO"
    with pytest.raises(ValidationError):
        codes.validate_modifiers("95,H")
    with pytest.raises(ValidationError):
        codes.validate_modifiers("95 HO GT 59 25")
    assert validate_taxonomy("101ym0800x") == "101YM0800X"
    with pytest.raises(ValidationError):
        validate_taxonomy("101YM0800")


def test_place_of_service_list_includes_both_telehealth_codes():
    pos = codes.place_of_service_codes()
    assert {"02", "10", "11"} <= pos.keys()


def test_the_tax_id_is_encrypted_and_masked():
    digits = normalize_tax_id("12-3456789", "ein")
    token = crypto.encrypt(digits)
    assert digits not in token
    assert crypto.decrypt(token) == "123456789"
    assert mask_tax_id(digits[-4:], "ein") == "••-•••6789"
    with pytest.raises(ValidationError):
        normalize_tax_id("123-45-678", "ssn")


def test_a_value_encrypted_under_another_key_is_refused(settings):
    token = crypto.encrypt("123456789")
    settings.BILLING_FIELD_KEY = "another-key"
    with pytest.raises(ValueError, match="another BILLING_FIELD_KEY"):
        crypto.decrypt(token)
