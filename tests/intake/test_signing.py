"""Electronic signatures: what is recorded, the hash that can be recomputed, immutability
(also against a replayed POST and direct SQL), and countersigning."""

import hashlib
import json

import pytest
from django.db import DatabaseError, transaction
from django_tenants.utils import schema_context

from tenant_apps.audit.models import AuditEvent
from tenant_apps.intake import services
from tenant_apps.intake.canonical import canonical_json
from tenant_apps.intake.models import Signature, Submission
from tenant_apps.intake.signatures import check_drawing
from tests.intake.conftest import CONSENT_ANSWERS, signature_fields, signature_png


def reload(practice, submission) -> Submission:
    with schema_context(practice.schema_name):
        return (
            Submission.objects.select_related("version")
            .prefetch_related("signatures")
            .get(pk=submission.pk)
        )


def test_signing_records_who_when_where_and_what(signed_consent, sunrise, carol, consent_sent):
    with schema_context(sunrise.schema_name):
        signature = Signature.objects.get(submission=signed_consent)
    assert signed_consent.status == "completed"
    assert (signature.signer_id, signature.signer_user_id) == (carol.pk, carol.pk)
    assert signature.full_name == "Carol Client" and signature.relationship == "self"
    assert signature.method == "drawn" and signature.image.startswith("data:image/png;base64,")
    assert signature.agreed_to_sign_electronically is True
    assert signature.ip_address == "203.0.113.9"
    assert signature.user_agent == "Mozilla/5.0 (iPhone) TestBrowser/1.0"
    assert signature.version_id == consent_sent.version_id
    assert signature.signed_at.utcoffset().total_seconds() == 0
    assert signature.signed_at == signed_consent.submitted_at
    assert (
        len(signature.document_hash) == 64
        and signature.document_hash == signed_consent.document_hash
    )


def test_a_null_character_in_the_browser_name_is_dropped_from_the_record(
    consent_sent, carol_browser, sunrise
):
    response = carol_browser.post(
        f"/forms/{consent_sent.pk}/",
        {**CONSENT_ANSWERS, **signature_fields()},
        HTTP_USER_AGENT="Test\x00Browser/1.0",
    )

    assert response.status_code == 302
    with schema_context(sunrise.schema_name):
        assert Signature.objects.get(submission=consent_sent).user_agent == "TestBrowser/1.0"


def test_the_hash_is_recomputed_from_the_stored_rows_alone(signed_consent, sunrise):
    submission = reload(sunrise, signed_consent)
    with schema_context(sunrise.schema_name):
        signature = submission.signatures.get()
        assert services.verify(submission)
    # Independently of services.verify: rebuild the payload by hand from stored fields.
    version = submission.version
    payload = {
        "scheme": "swasth-intake-v1",
        "submission": submission.pk,
        "client": submission.client_id,
        "version": {
            "id": version.pk,
            "number": version.number,
            "content_hash": version.content_hash,
        },
        "document": services.definitions.document_text(version.definition, submission.answers),
        "answers": submission.answers,
        "submitted_at": submission.submitted_at.isoformat(),
        "signature": {
            "role": "signer",
            "signer_user_id": signature.signer_user_id,
            "full_name": signature.full_name,
            "relationship": signature.relationship,
            "relationship_detail": signature.relationship_detail,
            "method": signature.method,
            "image_sha256": hashlib.sha256(signature.image.encode()).hexdigest(),
            "typed_text": signature.typed_text,
            "agreed_to_sign_electronically": True,
            "signed_at": signature.signed_at.isoformat(),
            "ip_address": signature.ip_address,
            "user_agent": signature.user_agent,
        },
    }
    assert hashlib.sha256(canonical_json(payload)).hexdigest() == submission.document_hash
    assert version.content_hash == hashlib.sha256(canonical_json(version.definition)).hexdigest()
    assert "I consent to treatment with this practice.: Yes" in payload["document"]


def test_a_changed_answer_no_longer_matches_the_hash(signed_consent, sunrise):
    submission = reload(sunrise, signed_consent)
    with schema_context(sunrise.schema_name):
        submission.answers = {**submission.answers, "consent_to_treatment": "No"}
        assert not services.verify(submission)


def test_the_database_refuses_to_change_a_signed_submission(signed_consent, sunrise):
    with schema_context(sunrise.schema_name):
        with pytest.raises(DatabaseError), transaction.atomic():
            Submission.objects.filter(pk=signed_consent.pk).update(
                answers={"consent_to_treatment": "No"}
            )
        with pytest.raises(DatabaseError), transaction.atomic():
            Submission.objects.filter(pk=signed_consent.pk).update(document_hash="0" * 64)
        with pytest.raises(DatabaseError), transaction.atomic():
            Submission.objects.filter(pk=signed_consent.pk).delete()
        with pytest.raises(DatabaseError), transaction.atomic():
            Signature.objects.filter(submission=signed_consent).update(full_name="Someone Else")
        with pytest.raises(DatabaseError), transaction.atomic():
            Signature.objects.filter(submission=signed_consent).delete()
        # Review still works on a frozen row.
        Submission.objects.filter(pk=signed_consent.pk).update(
            reviewed_at=signed_consent.submitted_at
        )


def test_a_replayed_post_changes_nothing(signed_consent, carol_browser, sunrise):
    before = reload(sunrise, signed_consent)
    replay = carol_browser.post(
        f"/forms/{signed_consent.pk}/",
        {
            "q_read_and_understood": "No",
            "q_consent_to_treatment": "No",
            **signature_fields(sig_full_name="Mallory"),
        },
    )
    assert replay.status_code == 409 and b"already submitted" in replay.content
    assert (
        carol_browser.post(
            f"/forms/{signed_consent.pk}/draft/", {"q_consent_to_treatment": "No"}
        ).status_code
        == 409
    )
    after = reload(sunrise, signed_consent)
    assert (after.answers, after.document_hash, after.submitted_at) == (
        before.answers,
        before.document_hash,
        before.submitted_at,
    )
    with schema_context(sunrise.schema_name):
        assert Signature.objects.filter(submission=signed_consent).count() == 1


def test_a_file_cannot_be_attached_after_signing(
    sunrise, bob, carol_record, library, carol_browser
):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from tests.intake.conftest import send, submissions_of
    from tests.intake.test_filling import PDF_BYTES, required_intake_answers

    (intake,) = submissions_of(sunrise, send(sunrise, carol_record, bob, ["adult_intake"], library))
    carol_browser.post(f"/forms/{intake.pk}/", required_intake_answers())
    upload = SimpleUploadedFile("late.pdf", PDF_BYTES)
    response = carol_browser.post(
        f"/forms/{intake.pk}/upload/", {"question": "documents", "file": upload}
    )
    assert response.status_code == 409


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"sig_full_name": ""}, "Type your full name."),
        ({"sig_image": ""}, "Draw your signature in the box"),
        ({"sig_image": signature_png(ink=False)}, "Draw your signature in the box"),
        ({"sig_image": "data:image/png;base64,AAAA"}, "could not be read"),
        ({"sig_image": "data:image/svg+xml;base64,PHN2Zz4="}, "could not be read"),
        ({"sig_image": signature_png(size=(5000, 200))}, "could not be read"),
        ({"sig_agree": ""}, "Tick the box to agree to sign electronically."),
        ({"sig_relationship": "neighbour"}, "Say who is signing."),
        ({"sig_relationship": "other"}, "Describe your relationship to the client."),
        ({"sig_method": "stamp"}, "Draw your signature or adopt the typed one."),
        ({"sig_full_name": "Carol\x00 Client"}, "Null characters are not allowed."),
        (
            {"sig_relationship": "other", "sig_relationship_detail": "Aunt\x00"},
            "Null characters are not allowed.",
        ),
    ],
)
def test_an_incomplete_signature_is_explained_and_nothing_is_signed(
    consent_sent, carol_browser, sunrise, fields, message
):
    response = carol_browser.post(
        f"/forms/{consent_sent.pk}/", {**CONSENT_ANSWERS, **signature_fields(**fields)}
    )
    assert response.status_code == 400
    assert message in response.content.decode()
    submission = reload(sunrise, consent_sent)
    assert submission.status == "in_progress" and submission.answers == {
        "read_and_understood": "Yes",
        "consent_to_treatment": "Yes",
    }
    assert list(submission.signatures.all()) == []


def test_an_oversized_drawing_is_refused_before_decoding():
    with pytest.raises(Exception, match="could not be read"):
        check_drawing("data:image/png;base64," + "A" * 500_000)


def test_a_parent_signs_with_a_typed_signature(consent_sent, carol_browser, sunrise):
    response = carol_browser.post(
        f"/forms/{consent_sent.pk}/",
        {
            **CONSENT_ANSWERS,
            **signature_fields(
                sig_method="typed",
                sig_image="",
                sig_relationship="parent",
                sig_full_name="  Pat   Client ",
            ),
        },
    )
    assert response.status_code == 302
    with schema_context(sunrise.schema_name):
        signature = Signature.objects.get(submission_id=consent_sent.pk)
        assert services.verify(reload(sunrise, consent_sent))
    assert (signature.method, signature.typed_text, signature.image) == ("typed", "Pat Client", "")
    assert signature.relationship == "parent"


def test_another_relationship_is_described(consent_sent, carol_browser, sunrise):
    response = carol_browser.post(
        f"/forms/{consent_sent.pk}/",
        {
            **CONSENT_ANSWERS,
            **signature_fields(
                sig_relationship="other", sig_relationship_detail="Health care proxy"
            ),
        },
    )
    assert response.status_code == 302
    with schema_context(sunrise.schema_name):
        assert (
            Signature.objects.get(submission_id=consent_sent.pk).relationship_detail
            == "Health care proxy"
        )


def test_a_form_without_a_signature_question_is_submitted_and_hashed(
    phq_sent, carol_browser, sunrise
):
    from tests.intake.conftest import phq_answers

    assert (
        carol_browser.post(
            f"/forms/{phq_sent.pk}/", phq_answers(1, 1, 1, 1, 1, 1, 0, 0, 0)
        ).status_code
        == 302
    )
    submission = reload(sunrise, phq_sent)
    with schema_context(sunrise.schema_name):
        assert services.verify(submission)
    assert (submission.score, submission.score_band, submission.alerts) == (6, "Mild", [])
    assert list(submission.signatures.all()) == []


def test_the_audit_trail_holds_ids_and_the_hash_but_no_answers(signed_consent, sunrise):
    with schema_context(sunrise.schema_name):
        event = AuditEvent.objects.get(action="intake.form_signed")
    assert (
        event.object_id == str(signed_consent.pk)
        and event.details["hash"] == signed_consent.document_hash
    )
    assert "Carol" not in json.dumps(event.details) and "Yes" not in json.dumps(event.details)


# Countersigning --------------------------------------------------------------------------


def countersign(browser, submission, **fields):
    data = {
        "action": "countersign",
        **signature_fields(
            sig_full_name="Bob Clinician",
            sig_method="typed",
            sig_image="",
            sig_relationship="clinician",
        ),
        **fields,
    }
    return browser.post(f"/practice/forms/submissions/{submission.pk}/", data)


def test_the_clinician_countersigns_and_both_hashes_verify(
    signed_consent, bob_browser, bob, sunrise
):
    response = countersign(bob_browser, signed_consent)
    assert response.status_code == 302
    submission = reload(sunrise, signed_consent)
    with schema_context(sunrise.schema_name):
        counter = submission.signatures.get(role="countersigner")
        assert services.verify(submission)
    assert (counter.signer_id, counter.full_name, counter.relationship) == (
        bob.pk,
        "Bob Clinician",
        "clinician",
    )
    assert counter.document_hash != submission.document_hash
    # Once only.
    again = countersign(bob_browser, signed_consent)
    assert again.status_code == 302
    with schema_context(sunrise.schema_name):
        assert submission.signatures.filter(role="countersigner").count() == 1


def test_a_countersignature_needs_the_agreement_box(signed_consent, bob_browser, sunrise):
    response = countersign(bob_browser, signed_consent, sig_agree="")
    assert response.status_code == 400 and b"Tick the box" in response.content
    with schema_context(sunrise.schema_name):
        assert not Signature.objects.filter(
            submission=signed_consent, role="countersigner"
        ).exists()


def test_forms_that_take_no_countersignature_refuse_one(
    phq_sent, carol_browser, bob_browser, sunrise
):
    from tests.intake.conftest import phq_answers

    carol_browser.post(f"/forms/{phq_sent.pk}/", phq_answers(*([0] * 9)))
    response = countersign(bob_browser, phq_sent)
    assert response.status_code == 302
    with schema_context(sunrise.schema_name):
        assert not Signature.objects.filter(submission_id=phq_sent.pk).exists()


def test_the_client_cannot_countersign_or_sign_as_clinician(consent_sent, carol_browser, sunrise):
    response = carol_browser.post(
        f"/forms/{consent_sent.pk}/",
        {**CONSENT_ANSWERS, **signature_fields(sig_relationship="clinician")},
    )
    assert response.status_code == 400 and b"Say who is signing." in response.content
    assert countersign(carol_browser, consent_sent).status_code == 302  # to the staff sign-in
    with schema_context(sunrise.schema_name):
        assert not Signature.objects.filter(submission_id=consent_sent.pk).exists()
