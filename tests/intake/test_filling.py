"""Filling forms in the portal: autosave and resume, validation beside the field, conditional
questions, version pinning, file uploads, and who can reach any of it."""

import json
import re
from datetime import timedelta

import pytest
import time_machine
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tenants.utils import schema_context

from tenant_apps.intake.models import AnswerFile, FormTemplate, Submission
from tenant_apps.intake.services import save_template
from tests.conftest import host_client, sign_in_where_sent, signed_in
from tests.intake.conftest import send, submissions_of

PDF_BYTES = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture
def intake(sunrise, bob, carol_record, library):
    form_request = send(sunrise, carol_record, bob, ["adult_intake"], library)
    return submissions_of(sunrise, form_request)[0]


def required_intake_answers(**overrides):
    answers = {
        "q_date_of_birth": "1990-04-02",
        "q_phone": "(212) 555-0101",
        "q_ok_to_leave_message": "Yes",
        "q_reason": "Trouble sleeping since I changed jobs.",
        "q_emergency_name": "Sam Client",
        "q_emergency_phone": "212-555-0102",
    }
    answers.update(overrides)
    return answers


def stored(practice, submission) -> Submission:
    with schema_context(practice.schema_name):
        return Submission.objects.select_related("version").get(pk=submission.pk)


def test_opening_a_form_marks_it_viewed(intake, carol_browser, sunrise):
    page = carol_browser.get(f"/forms/{intake.pk}/").content.decode()
    assert "Adult intake questionnaire" in page and 'name="q_reason"' in page
    assert stored(sunrise, intake).status == "viewed"


def test_autosave_keeps_answers_and_reports_problems_beside_the_field(
    intake, carol_browser, sunrise
):
    response = carol_browser.post(
        f"/forms/{intake.pk}/draft/",
        {
            "q_reason": "Sleep",
            "q_email": "carol@",
            "q_concerns": ["Stress", "Sleep"],
            "q_sleep_hours": "30",
        },
    )
    body = response.json()
    assert response.status_code == 200 and body["saved_at"]
    assert body["errors"] == {
        "email": "Enter an email address such as name@example.com.",
        "sleep_hours": "Enter a number no greater than 24.",
    }
    saved = stored(sunrise, intake)
    # What was typed is kept, invalid or not, so nothing is lost before it is fixed.
    assert saved.answers == {
        "reason": "Sleep",
        "email": "carol@",
        "concerns": ["Stress", "Sleep"],
        "sleep_hours": "30",
    }
    assert saved.status == "in_progress"


def test_answers_survive_a_timeout_and_come_back_in_a_new_session(intake, carol_browser, carol):
    carol_browser.post(
        f"/forms/{intake.pk}/draft/",
        {"q_reason": "Sleep and worry", "q_concerns": ["Sleep"], "q_ok_to_leave_message": "No"},
    )
    with time_machine.travel(timezone.now() + timedelta(minutes=31)):
        assert carol_browser.get(f"/forms/{intake.pk}/").status_code == 302  # signed out
        # A save attempted after the timeout is refused in a way the page can explain.
        late = carol_browser.post(f"/forms/{intake.pk}/draft/", {"q_reason": "x"})
        assert late.status_code == 401 and "signed out" in late.json()["error"]

        again = signed_in("sunrise.localhost", carol, url="/sign-in/")
        page = again.get(f"/forms/{intake.pk}/").content.decode()
    assert "Sleep and worry</textarea>" in page
    assert 'value="Sleep" checked' in page and 'value="No" checked' in page


def test_submitting_with_mistakes_shows_each_message_and_keeps_everything(
    intake, carol_browser, sunrise
):
    response = carol_browser.post(
        f"/forms/{intake.pk}/",
        required_intake_answers(q_phone="123", q_reason="", q_email="nope", q_preferred_name="Caz"),
    )
    page = response.content.decode()
    assert response.status_code == 400
    assert 'data-error-for="phone">Enter a valid phone number' in page
    assert 'data-error-for="reason">This question needs an answer.' in page
    assert 'data-error-for="email">Enter an email address' in page
    assert 'value="Caz"' in page and 'value="1990-04-02"' in page
    saved = stored(sunrise, intake)
    assert saved.status == "in_progress" and saved.answers["preferred_name"] == "Caz"


def test_a_null_character_in_an_answer_is_explained_and_the_rest_is_kept(
    intake, carol_browser, sunrise
):
    response = carol_browser.post(
        f"/forms/{intake.pk}/", required_intake_answers(q_reason="a\x00b", q_preferred_name="Caz")
    )

    page = response.content.decode()
    assert response.status_code == 400
    assert 'data-error-for="reason">Null characters are not allowed.' in page
    saved = stored(sunrise, intake)
    assert saved.status == "in_progress"
    assert saved.answers["reason"] == "ab" and saved.answers["preferred_name"] == "Caz"


@pytest.mark.parametrize(
    "answers", [{"q_reason": "a\x00b"}, {"q_concerns": ["Sleep", "a\x00b"]}], ids=["text", "choice"]
)
def test_the_autosave_refuses_a_null_character_and_saves_nothing(
    intake, carol_browser, sunrise, answers
):
    url = f"/forms/{intake.pk}/draft/"
    carol_browser.post(url, {"q_preferred_name": "Caz"})

    response = carol_browser.post(url, {**answers, "q_preferred_name": "Carol"})

    assert response.status_code == 400
    assert response.json() == {"error": "Null characters are not allowed."}
    assert stored(sunrise, intake).answers == {"preferred_name": "Caz"}


def test_a_conditional_answer_counts_only_when_its_question_shows(intake, carol_browser, sunrise):
    response = carol_browser.post(
        f"/forms/{intake.pk}/",
        required_intake_answers(
            q_prior_therapy="No",
            q_prior_therapy_detail="typed before changing my mind",
            q_concerns=["Stress"],
            q_concerns_other="hidden too",
        ),
    )
    assert response.status_code == 302
    answers = stored(sunrise, intake).answers
    assert "prior_therapy_detail" not in answers and "concerns_other" not in answers
    assert answers["phone"] == "+12125550101"


def test_the_fill_page_hides_conditional_questions_until_their_answer(intake, carol_browser):
    def detail_tag():
        page = carol_browser.get(f"/forms/{intake.pk}/").content.decode()
        return re.search(r'<div [^>]*data-key="prior_therapy_detail"[^>]*>', page).group(0)

    tag = detail_tag()
    assert "data-show-if" in tag and "prior_therapy" in tag and tag.endswith(" hidden>")
    carol_browser.post(f"/forms/{intake.pk}/draft/", {"q_prior_therapy": "Yes"})
    assert not detail_tag().endswith(" hidden>")


def test_a_sent_form_keeps_its_version_when_the_template_changes(
    intake, carol_browser, alice, library, sunrise
):
    template = library["adult_intake"]
    with schema_context(sunrise.schema_name):
        edited = json.loads(json.dumps(template.current_version.definition))
        edited["questions"][8]["label"] = "What would you like to change?"
        save_template(FormTemplate.objects.get(pk=template.pk), actor=alice, definition=edited)
        assert FormTemplate.objects.get(pk=template.pk).current_version.number == 2
    page = carol_browser.get(f"/forms/{intake.pk}/").content.decode()
    assert "In your own words, what would you like help with?" in page
    assert "What would you like to change?" not in page
    assert carol_browser.post(f"/forms/{intake.pk}/", required_intake_answers()).status_code == 302
    saved = stored(sunrise, intake)
    assert saved.version.number == 1
    completed = carol_browser.get(f"/forms/{intake.pk}/").content.decode()
    assert "In your own words" in completed and "Trouble sleeping" in completed


def test_a_file_is_stored_privately_and_served_only_through_the_checked_view(
    intake, carol_browser, dave_browser, dave_record, bob_browser, biller_browser, sunrise
):
    upload = SimpleUploadedFile(
        "../../referral letter.pdf", PDF_BYTES, content_type="application/pdf"
    )
    response = carol_browser.post(
        f"/forms/{intake.pk}/upload/", {"question": "documents", "file": upload}
    )
    assert response.status_code == 200, response.content
    data = response.json()
    with schema_context(sunrise.schema_name):
        answer_file = AnswerFile.objects.get(pk=data["file"])
    assert answer_file.storage_key.startswith(f"{sunrise.schema_name}/intake/")
    assert "referral" not in answer_file.storage_key
    assert default_storage.exists(answer_file.storage_key)
    assert stored(sunrise, intake).answers["documents"]["file"] == answer_file.pk

    download = carol_browser.get(data["url"])
    assert download.status_code == 200 and b"".join(download.streaming_content) == PDF_BYTES
    assert download["Cache-Control"] == "private, no-store"
    assert dave_browser.get(data["url"]).status_code == 404

    carol_browser.post(f"/forms/{intake.pk}/", required_intake_answers())
    staff_url = f"/practice/forms/submissions/{intake.pk}/files/{answer_file.pk}/"
    assert bob_browser.get(staff_url).status_code == 200
    assert biller_browser.get(staff_url).status_code == 403


def test_an_unsupported_file_is_refused_with_a_reason(intake, carol_browser):
    upload = SimpleUploadedFile("run.exe", b"MZ\x90\x00binary", content_type="application/pdf")
    response = carol_browser.post(
        f"/forms/{intake.pk}/upload/", {"question": "documents", "file": upload}
    )
    assert response.status_code == 400 and "PDF, PNG or JPEG" in response.json()["error"]
    upload = SimpleUploadedFile("a.pdf", PDF_BYTES)
    response = carol_browser.post(
        f"/forms/{intake.pk}/upload/", {"question": "reason", "file": upload}
    )
    assert response.status_code == 400 and "does not take a file" in response.json()["error"]


def test_without_javascript_a_file_goes_with_the_submit(intake, carol_browser, sunrise):
    upload = SimpleUploadedFile("letter.pdf", PDF_BYTES)
    response = carol_browser.post(
        f"/forms/{intake.pk}/", {**required_intake_answers(), "upload_documents": upload}
    )
    assert response.status_code == 302
    assert stored(sunrise, intake).answers["documents"]["name"] == "letter.pdf"


def test_the_client_reopens_and_downloads_a_completed_form(intake, carol_browser):
    carol_browser.post(f"/forms/{intake.pk}/", required_intake_answers())
    listing = carol_browser.get("/forms/").content.decode()
    assert f"/forms/{intake.pk}/pdf/" in listing
    assert 'href="/forms/"' in carol_browser.get("/").content.decode()  # the home's Forms card
    pdf = carol_browser.get(f"/forms/{intake.pk}/pdf/")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")


def test_a_signed_out_client_signs_in_and_gets_the_form_pdf(intake, carol, carol_browser):
    carol_browser.post(f"/forms/{intake.pk}/", required_intake_answers())
    browser = host_client("sunrise.localhost")

    sent = browser.get(f"/forms/{intake.pk}/pdf/")
    assert sent["Location"] == f"/sign-in/?next=/forms/{intake.pk}/pdf/"
    pdf = sign_in_where_sent(browser, sent, carol)

    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")


# Isolation -----------------------------------------------------------------------------------


PORTAL_URLS = [
    "/forms/{pk}/",
    "/forms/{pk}/draft/",
    "/forms/{pk}/upload/",
    "/forms/{pk}/pdf/",
    "/forms/{pk}/files/1/",
]


@pytest.mark.parametrize("url", PORTAL_URLS)
def test_another_client_cannot_reach_the_form(intake, dave_browser, dave_record, sunrise, url):
    before = stored(sunrise, intake).answers
    url = url.format(pk=intake.pk)
    assert dave_browser.get(url).status_code in (404, 405)
    assert dave_browser.post(url, {"q_reason": "overwritten"}).status_code == 404
    assert stored(sunrise, intake).answers == before


@pytest.mark.parametrize("url", PORTAL_URLS)
def test_a_client_of_another_practice_cannot_reach_the_form(intake, ivan_browser, ivan_record, url):
    url = url.format(pk=intake.pk)
    assert ivan_browser.post(url, {"q_reason": "x"}).status_code == 404


@pytest.mark.parametrize("url", PORTAL_URLS)
def test_anonymous_visitors_cannot_reach_the_form(intake, anonymous_sunrise, url):
    response = anonymous_sunrise.post(url.format(pk=intake.pk), {"q_reason": "x"})
    assert (
        response.status_code == 302 and "/sign-in/" in response["Location"]
    ) or response.status_code == 401


def test_staff_cannot_use_the_portal_form_views(intake, bob_browser):
    response = bob_browser.get(f"/forms/{intake.pk}/")
    assert response.status_code == 302 and "/sign-in/" in response["Location"]


def test_the_client_list_shows_only_their_own_forms(intake, dave_browser, dave_record):
    assert f"/forms/{intake.pk}/" not in dave_browser.get("/forms/").content.decode()
    assert f"/forms/{intake.pk}/" not in dave_browser.get("/").content.decode()


# Query counts -------------------------------------------------------------------------------


def _form_with(n: int) -> dict:
    kinds = ["short_text", "yes_no", "scale", "multiple_choice", "date", "dropdown"]
    questions = []
    for index in range(n):
        kind = kinds[index % len(kinds)]
        question = {
            "key": f"q_{index}",
            "type": kind,
            "label": f"Question {index}",
            "required": True,
        }
        if kind in ("multiple_choice", "dropdown"):
            question["options"] = ["One", "Two", "Three"]
        if kind == "scale":
            question.update(min=0, max=3)
        questions.append(question)
    return {"title": f"Form of {n}", "kind": "screening", "questions": questions}


def test_the_fill_page_runs_the_same_queries_for_2_or_60_questions(
    sunrise, alice, carol_record, carol_browser
):
    counts = {}
    for n in (2, 60):
        with schema_context(sunrise.schema_name):
            template, _ = save_template(None, actor=alice, definition=_form_with(n))
        form_request = send(sunrise, carol_record, alice, ["x"], {"x": template})
        (submission,) = submissions_of(sunrise, form_request)
        url = f"/forms/{submission.pk}/"
        carol_browser.get(url)
        carol_browser.post(f"{url}draft/", {f"q_q_{i}": "Yes" for i in range(n)})
        with CaptureQueriesContext(connection) as queries:
            page = carol_browser.get(url)
        assert page.status_code == 200 and f"Question {n - 1}" in page.content.decode()
        counts[n] = len(queries)
    assert counts[2] == counts[60], counts
