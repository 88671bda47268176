"""Superbills carry every field an insurer needs; documents are snapshots that later edits
to the client or the practice do not change."""

import io
from datetime import UTC, date, datetime

import pytest
from django.core.exceptions import ValidationError
from django_tenants.utils import schema_context
from pypdf import PdfReader

from tenant_apps.billing import documents, services
from tenant_apps.billing.models import BillingProfile, Location, Payment, Service
from tenants.models import Practice

NPI = "1234567893"
ORG_NPI = "1245319599"


@pytest.fixture
def superbill_ready(sunrise, carol_record):
    """Sunrise with a billing identity and Carol with two invoiced sessions, one paid."""
    Practice.objects.filter(pk=sunrise.pk).update(
        address_line1="12 Sunrise Way", city="Albany", region="NY", postal_code="12207"
    )
    with schema_context(sunrise.schema_name):
        profile = BillingProfile.load()
        profile.legal_name = "Sunrise Therapy PLLC"
        profile.tax_id_kind = "ein"
        profile.npi_individual = NPI
        profile.npi_organization = ORG_NPI
        profile.taxonomy_code = "101YM0800X"
        profile.save()
        services.save_billing_profile(
            profile, actor=None, changed=[], tax_id="12-3456789", currency="USD"
        )
        carol_record.date_of_birth = date(1990, 4, 12)
        carol_record.address_line1 = "5 Elm Street"
        carol_record.city = "Troy"
        carol_record.region = "NY"
        carol_record.postal_code = "12180"
        carol_record.insurance_payer = "Acme Health"
        carol_record.insurance_member_id = "XJ99887766"
        carol_record.insurance_group_number = "GRP-4411"
        carol_record.insurance_policy_holder = "Carol Client"
        carol_record.save()
        services.add_diagnosis(carol_record, actor=None, code="F41.1")
        services.add_diagnosis(carol_record, actor=None, code="Z63.0")
        telehealth = Location.objects.create(name="Video", place_of_service="10")
        therapy = Service.objects.create(name="Psychotherapy 53+ min", fee=18000, cpt_code="90837")
        invoice = services.create_invoice(
            carol_record,
            actor=None,
            location=telehealth,
            lines=[
                services.LineInput(
                    date_of_service=date(2026, 11, 3),
                    unit_fee=18000,
                    service=therapy,
                    modifiers="95",
                ),
                services.LineInput(
                    date_of_service=date(2026, 11, 10),
                    unit_fee=18000,
                    service=therapy,
                    modifiers="95",
                ),
            ],
        )
        services.issue_invoice(invoice, actor=None)
        services.record_payment(
            carol_record,
            actor=None,
            method=Payment.Method.CHECK,
            amount=18000,
            received_at=datetime(2026, 11, 12, 15, tzinfo=UTC),
            applications=[(invoice, 18000)],
        )
    return carol_record


def pdf_text(document) -> str:
    content, _pages = documents.render_pdf(document)
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


def test_the_superbill_pdf_contains_every_required_field(sunrise, superbill_ready):
    with schema_context(sunrise.schema_name):
        document = documents.create_superbill(
            superbill_ready, actor=None, dates=[date(2026, 11, 3), date(2026, 11, 10)]
        )
        text = pdf_text(document)

    for expected in [
        # Practice and provider
        "Sunrise Therapy PLLC",
        "12 Sunrise Way",
        "Albany NY 12207",
        "Tax ID (EIN): 12-3456789",
        f"Organization NPI: {ORG_NPI}",
        f"Rendering provider NPI: {NPI}",
        "Taxonomy: 101YM0800X",
        "Bob Clinician",
        # Client
        "Carol Client",
        "Date of birth: Apr 12, 1990",
        "5 Elm Street",
        "Troy NY 12180",
        "Payer: Acme Health",
        "Member ID: XJ99887766",
        "Group number: GRP-4411",
        # Diagnoses with descriptions
        "F41.1",
        "Generalized anxiety disorder",
        "Z63.0",
        # Services
        "Nov 3, 2026",
        "Nov 10, 2026",
        "90837",
        "95",
        "10",
        "AB",
        "$180.00",
        # Amounts: fees and paid
        "$360.00",
    ]:
        assert expected in text, expected
    assert document.snapshot["total_paid"] == 18000
    assert [s["paid"] for s in document.snapshot["services"]] == [18000, 0]
    assert [s["place_of_service"] for s in document.snapshot["services"]] == ["10", "10"]


def test_each_service_row_reads_with_its_place_pointers_fee_and_amount_paid(
    sunrise, superbill_ready
):
    """Row by row, so that "10" is the place of service and not a day of the month, and the
    amount paid is in the PDF and not only in the snapshot."""
    with schema_context(sunrise.schema_name):
        document = documents.create_superbill(
            superbill_ready, actor=None, dates=[date(2026, 11, 3), date(2026, 11, 10)]
        )
        text = " ".join(pdf_text(document).split())

    # Columns: date, CPT, modifiers, description, units, place of service, diagnosis
    # pointers, fee, paid.
    assert "Nov 3, 2026 90837 95 Psychotherapy 53+ min 1 10 AB $180.00 $180.00" in text
    assert "Nov 10, 2026 90837 95 Psychotherapy 53+ min 1 10 AB $180.00 $0.00" in text
    assert "Total (USD) $360.00 $180.00" in text
    assert "A F41.1 Generalized anxiety disorder B Z63.0" in text
    assert "Policy holder: Carol Client" in text


def test_the_superbill_can_hide_diagnosis_descriptions(sunrise, superbill_ready):
    with schema_context(sunrise.schema_name):
        document = documents.create_superbill(
            superbill_ready,
            actor=None,
            dates=[date(2026, 11, 3)],
            hide_diagnosis_descriptions=True,
        )
        text = pdf_text(document)
    assert "F41.1" in text and "Z63.0" in text
    assert "anxiety" not in text.lower()
    assert "spouse" not in text.lower()
    assert all(item["description"] == "" for item in document.snapshot["diagnoses"])


def test_it_names_what_is_missing_before_a_superbill(sunrise, carol_record):
    with schema_context(sunrise.schema_name), pytest.raises(ValidationError) as error:
        documents.create_superbill(carol_record, actor=None, dates=[date(2026, 11, 3)])
    assert error.value.messages == ["There are no invoiced services on those dates."]


def test_diagnoses_are_validated_and_capped_at_twelve(sunrise, carol_record):
    from tenant_apps.billing.codes import icd10_codes

    with schema_context(sunrise.schema_name):
        with pytest.raises(ValidationError) as error:
            services.add_diagnosis(carol_record, actor=None, code="F99.99")
        assert "is not in this practice's ICD-10-CM list" in error.value.messages[0]
        for code in list(icd10_codes())[:12]:
            services.add_diagnosis(carol_record, actor=None, code=code)
        with pytest.raises(ValidationError) as error:
            services.add_diagnosis(carol_record, actor=None, code="Z63.0")
        assert error.value.messages == ["A client can have at most 12 diagnoses."]


def test_a_sent_document_does_not_change_when_the_client_or_practice_changes(
    sunrise, superbill_ready
):
    with schema_context(sunrise.schema_name):
        first = documents.create_superbill(superbill_ready, actor=None, dates=[date(2026, 11, 3)])
        documents.ensure_pdf(first)
        before = first.pdf.read()
        first.pdf.close()

        superbill_ready.legal_last_name = "Renamed"
        superbill_ready.save()
        Practice.objects.filter(pk=sunrise.pk).update(address_line1="99 New Road")

        first.refresh_from_db()
        documents.ensure_pdf(first)
        assert first.pdf.read() == before
        first.pdf.close()
        assert "Carol Client" in pdf_text(first)
        assert "12 Sunrise Way" in pdf_text(first)

        second = documents.create_superbill(superbill_ready, actor=None, dates=[date(2026, 11, 3)])
        text = pdf_text(second)
    assert "Carol Renamed" in text and "99 New Road" in text


def test_the_tax_id_is_stored_encrypted(sunrise, superbill_ready):
    with schema_context(sunrise.schema_name):
        profile = BillingProfile.load()
    assert "123456789" not in profile.tax_id_encrypted
    assert profile.tax_id_last4 == "6789"
