"""Reviewing submissions: scores, the follow-up note, marking reviewed, the PDF with its
signature audit block, and who may see any of it."""

import io

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import schema_context
from pypdf import PdfReader

from tenant_apps.intake.models import Submission
from tests.conftest import host_client
from tests.intake.conftest import phq_answers, send, submissions_of


def pdf_text(response) -> str:
    reader = PdfReader(io.BytesIO(response.content))
    return "\n".join(page.extract_text() for page in reader.pages)


@pytest.fixture
def flagged_phq(phq_sent, carol_browser):
    """A PHQ-9 with a total of 12 (moderate) and item 9 above zero."""
    response = carol_browser.post(f"/forms/{phq_sent.pk}/", phq_answers(2, 2, 2, 2, 1, 1, 1, 0, 1))
    assert response.status_code == 302
    return phq_sent


def test_the_clinician_sees_the_score_band_and_follow_up(flagged_phq, bob_browser, carol_record):
    queue = bob_browser.get("/practice/forms/review/").content.decode()
    assert f'data-submission="{flagged_phq.pk}"' in queue
    assert "12 · Moderate" in queue and "Needs follow-up" in queue
    detail = bob_browser.get(f"/practice/forms/submissions/{flagged_phq.pk}/").content.decode()
    assert 'data-score="12"' in detail and "Moderate" in detail
    assert "Item 9 (thoughts of death or self-harm)" in detail
    assert "verified" in detail
    panel = bob_browser.get(f"/practice/clients/{carol_record.pk}/").content.decode()
    assert "score 12 (Moderate)" in panel and "Needs follow-up" in panel


def test_the_client_never_sees_the_follow_up_note_and_no_email_mentions_it(
    flagged_phq, carol_browser
):
    page = carol_browser.get(f"/forms/{flagged_phq.pk}/").content.decode()
    assert "Item 9" not in page and "Moderate" not in page
    assert "Item 9" not in pdf_text(carol_browser.get(f"/forms/{flagged_phq.pk}/pdf/"))
    for message in mail.outbox:
        assert "self-harm" not in message.body and "Item 9" not in message.body


def test_marking_reviewed_takes_it_off_the_queue(flagged_phq, bob_browser, bob, sunrise):
    response = bob_browser.post(
        f"/practice/forms/submissions/{flagged_phq.pk}/", {"action": "reviewed"}
    )
    assert response.status_code == 302
    with schema_context(sunrise.schema_name):
        reviewed = Submission.objects.get(pk=flagged_phq.pk)
    assert reviewed.reviewed_by_id == bob.pk and reviewed.reviewed_at
    assert (
        f'data-submission="{flagged_phq.pk}"'
        not in bob_browser.get("/practice/forms/review/").content.decode()
    )
    assert (
        f'data-submission="{flagged_phq.pk}"'
        in bob_browser.get("/practice/forms/review/?show=all").content.decode()
    )


def test_the_pdf_holds_the_answers_and_the_signature_audit_block(
    signed_consent, bob_browser, sunrise
):
    response = bob_browser.get(f"/practice/forms/submissions/{signed_consent.pk}/pdf/")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response["Cache-Control"] == "private, no-store"
    text = pdf_text(response)
    flat = " ".join(text.split())
    assert "Informed consent for treatment" in flat
    assert "I consent to treatment with this practice." in flat and "Yes" in flat
    assert "Electronic signature" in flat and "Carol Client" in flat
    assert "203.0.113.9" in flat
    assert "America/New_York" in flat and ("EST" in flat or "EDT" in flat)
    # The hash may wrap across lines in the PDF; compare without whitespace.
    assert signed_consent.document_hash in "".join(text.split())


def test_the_pdf_time_is_in_the_practices_zone(signed_consent, bob_browser):
    from tenant_apps.intake.rendering import format_moment

    with schema_context("public"):
        from tenants.models import Practice

        sunrise = Practice.objects.get(domains__domain="sunrise.localhost")
    local = format_moment(signed_consent.submitted_at, sunrise)
    text = " ".join(
        pdf_text(bob_browser.get(f"/practice/forms/submissions/{signed_consent.pk}/pdf/")).split()
    )
    assert local in text


def test_the_staff_pdf_carries_the_score(flagged_phq, bob_browser):
    text = pdf_text(bob_browser.get(f"/practice/forms/submissions/{flagged_phq.pk}/pdf/"))
    assert "Total score: 12" in text and "Moderate" in text


def test_an_unfinished_form_has_no_pdf(phq_sent, bob_browser, carol_browser):
    assert bob_browser.get(f"/practice/forms/submissions/{phq_sent.pk}/pdf/").status_code == 404
    assert carol_browser.get(f"/forms/{phq_sent.pk}/pdf/").status_code == 404


# Who may review ------------------------------------------------------------------------------

STAFF_URLS = [
    "/practice/forms/submissions/{pk}/",
    "/practice/forms/submissions/{pk}/pdf/",
    "/practice/forms/submissions/{pk}/files/1/",
]


@pytest.mark.parametrize("url", STAFF_URLS)
def test_a_clinician_cannot_see_another_clinicians_client(
    sunrise, alice, dave_record, library, dave_browser, bob_browser, url
):
    (submission,) = submissions_of(sunrise, send(sunrise, dave_record, alice, ["phq9"], library))
    dave_browser.post(f"/forms/{submission.pk}/", phq_answers(*([1] * 9)))
    assert bob_browser.get(url.format(pk=submission.pk)).status_code == 404
    assert bob_browser.post(url.format(pk=submission.pk), {"action": "reviewed"}).status_code in (
        404,
        405,
    )
    assert (
        f'data-submission="{submission.pk}"'
        not in bob_browser.get("/practice/forms/review/?show=all").content.decode()
    )


@pytest.mark.parametrize("url", STAFF_URLS)
def test_another_practice_cannot_see_the_submission(flagged_phq, hana_browser, url):
    assert hana_browser.get(url.format(pk=flagged_phq.pk)).status_code == 404
    assert (
        f'data-submission="{flagged_phq.pk}"'
        not in hana_browser.get("/practice/forms/review/?show=all").content.decode()
    )


@pytest.mark.parametrize("url", STAFF_URLS)
def test_a_biller_cannot_see_form_answers(flagged_phq, biller_browser, url):
    response = biller_browser.get(url.format(pk=flagged_phq.pk))
    assert response.status_code == 403 and b"Moderate" not in response.content


@pytest.mark.parametrize("url", STAFF_URLS)
def test_anonymous_visitors_cannot_see_the_submission(flagged_phq, url):
    response = host_client("sunrise.localhost").get(url.format(pk=flagged_phq.pk))
    assert response.status_code == 302 and "/practice/sign-in/" in response["Location"]


def test_a_client_cannot_open_the_staff_view(flagged_phq, carol_browser):
    response = carol_browser.get(f"/practice/forms/submissions/{flagged_phq.pk}/")
    assert response.status_code == 302


def test_viewing_and_downloading_are_audited(flagged_phq, bob_browser, sunrise):
    from tenant_apps.audit.models import AuditEvent

    bob_browser.get(f"/practice/forms/submissions/{flagged_phq.pk}/")
    bob_browser.get(f"/practice/forms/submissions/{flagged_phq.pk}/pdf/")
    with schema_context(sunrise.schema_name):
        actions = set(
            AuditEvent.objects.filter(object_id=str(flagged_phq.pk)).values_list(
                "action", flat=True
            )
        )
    assert {"intake.submission_viewed", "intake.pdf_downloaded", "intake.form_submitted"} <= actions


# Query counts -------------------------------------------------------------------------------


def test_the_review_queue_and_client_panel_run_the_same_queries_for_more_submissions(
    sunrise, alice, carol_record, dave_record, library, carol_browser, dave_browser, alice_browser
):
    def fill(record, browser, keys):
        form_request = send(sunrise, record, alice, keys, library)
        for submission in submissions_of(sunrise, form_request):
            if submission.template_id == library["phq9"].pk:
                browser.post(f"/forms/{submission.pk}/", phq_answers(*([1] * 9)))
            else:
                browser.post(f"/forms/{submission.pk}/", {f"q_gad_{n}": "2" for n in range(1, 8)})

    def count(url):
        with CaptureQueriesContext(connection) as queries:
            assert alice_browser.get(url).status_code == 200
        return len(queries)

    fill(carol_record, carol_browser, ["phq9"])
    urls = ["/practice/forms/review/", f"/practice/clients/{carol_record.pk}/"]
    for url in urls:
        alice_browser.get(url)
    before = {url: count(url) for url in urls}
    fill(carol_record, carol_browser, ["gad7", "phq9"])
    fill(carol_record, carol_browser, ["phq9", "gad7"])
    fill(dave_record, dave_browser, ["phq9", "gad7"])
    after = {url: count(url) for url in urls}
    assert after == before


def test_the_submission_page_runs_the_same_queries_for_2_or_60_questions(
    sunrise, alice, carol_record, carol_browser, alice_browser
):
    from tenant_apps.intake.services import save_template
    from tests.intake.test_filling import _form_with

    counts = {}
    for n in (2, 60):
        with schema_context(sunrise.schema_name):
            template, _ = save_template(None, actor=alice, definition=_form_with(n))
        (submission,) = submissions_of(
            sunrise, send(sunrise, carol_record, alice, ["x"], {"x": template})
        )
        answers = {}
        for index in range(n):
            answers[f"q_q_{index}"] = ["Yes", "Yes", "1", "One", "2026-01-02", "Two"][index % 6]
        response = carol_browser.post(f"/forms/{submission.pk}/", answers)
        assert response.status_code == 302, response.content.decode()[:500]
        url = f"/practice/forms/submissions/{submission.pk}/"
        alice_browser.get(url)
        with CaptureQueriesContext(connection) as queries:
            assert alice_browser.get(url).status_code == 200
        counts[n] = len(queries)
    assert counts[2] == counts[60], counts
