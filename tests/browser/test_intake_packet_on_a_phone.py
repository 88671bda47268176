"""A clinician sends an intake packet; the client fills it in on a phone (answers autosaved and
still there after a reload), draws a signature with the pointer and submits; the clinician
downloads the signed PDF and its text holds the answers and the signature audit block."""

import re
from collections.abc import Iterator

import pytest
from django.db import connection
from django_tenants.utils import schema_context
from pypdf import PdfReader

from shared_apps.plans.models import Plan
from tenant_apps.accounts.models import Role, User
from tenant_apps.clients.models import Client
from tenant_apps.intake.models import FormTemplate, Signature, Submission
from tenant_apps.intake.services import verify
from tenants.models import Practice
from tests.browser.conftest import PHONE
from tests.personas import PASSWORD, Persona
from tests.practices import drop_practice, provision_test_practice

pytestmark = pytest.mark.browser

OWNER = Persona("mara", "mara@maple-forms.test", "Mara Owner", Role.OWNER)
CLIENT = Persona("rhea", "rhea@client.test", "Rhea Client", Role.CLIENT)
PACKET = ["adult_intake", "informed_consent", "phq9"]


@pytest.fixture(scope="module")
def maple(django_db_setup, django_db_blocker) -> Iterator[Practice]:
    with django_db_blocker.unblock():
        practice = provision_test_practice(
            "Maple Forms", "maple-forms", Plan.STARTER, "America/Los_Angeles", (OWNER, CLIENT)
        )
        with schema_context(practice.schema_name):
            rhea = User.objects.get(email=CLIENT.email)
            Client.objects.create(
                legal_first_name="Rhea",
                legal_last_name="Client",
                email=rhea.email,
                user=rhea,
                assigned_clinician=User.objects.get(email=OWNER.email),
            )
        try:
            yield practice
        finally:
            connection.set_schema_to_public()
            drop_practice(practice)


def sign_in(page, url: str, person: Persona) -> None:
    page.goto(url)
    page.fill("input[name=username]", person.email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")


def draw_signature(page) -> None:
    box = page.locator("[data-sig-canvas]").bounding_box()
    x, y, w, h = box["x"], box["y"], box["width"], box["height"]
    page.mouse.move(x + w * 0.1, y + h * 0.7)
    page.mouse.down()
    for step in range(1, 21):
        page.mouse.move(x + w * (0.1 + 0.04 * step), y + h * (0.7 - 0.4 * ((step % 4) / 4)))
    page.mouse.up()


def test_a_client_fills_and_signs_an_intake_packet_on_a_phone(
    maple, browser, live_server_url, settings, tmp_path, db
):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    base = live_server_url("maple-forms")
    with schema_context(maple.schema_name):
        client_pk = Client.objects.get(email=CLIENT.email).pk
        titles = {
            t.library_key: t.name for t in FormTemplate.objects.filter(library_key__in=PACKET)
        }

    # The clinician sends the packet, ticking the forms in the order the client will see them.
    desk = browser.new_context(viewport={"width": 1280, "height": 800})
    staff = desk.new_page()
    sign_in(staff, f"{base}/practice/sign-in/", OWNER)
    staff.goto(f"{base}/practice/clients/{client_pk}/")
    staff.click("text=Send forms")
    for key in PACKET:
        staff.check(f"label:has-text('{titles[key]}') input")
    assert staff.inner_text("[data-send-order]").split("\n") == [titles[key] for key in PACKET]
    staff.click("button:has-text('Send')")
    staff.wait_for_url(f"{base}/practice/clients/{client_pk}/")
    assert "3 form(s) sent" in staff.content()

    # The client, on a phone.
    phone = browser.new_context(viewport=PHONE, has_touch=True, is_mobile=True)
    page = phone.new_page()
    sign_in(page, f"{base}/sign-in/", CLIENT)
    page.wait_for_url(f"{base}/")
    tasks = page.locator("#tasks-heading + ul a")
    assert tasks.all_inner_texts() == [f"Complete: {titles[key]}" for key in PACKET]
    tasks.first.tap()
    page.wait_for_url(re.compile(r"/forms/\d+/$"))
    intake_url = page.url

    # Conditional question: shown only after "Yes".
    detail = page.locator(".intake-q[data-key=prior_therapy_detail]")
    assert detail.is_hidden()
    page.check("input[name=q_prior_therapy][value=Yes]")
    assert detail.is_visible()
    page.fill("textarea[name=q_prior_therapy_detail]", "Talking helped.")

    page.fill("input[name=q_date_of_birth]", "1991-05-17")
    page.fill("input[name=q_phone]", "(415) 555-0134")
    page.check("input[name=q_ok_to_leave_message][value=No]")
    page.fill("textarea[name=q_reason]", "I have been sleeping badly and worrying a lot.")
    page.check("input[name=q_concerns][value=Sleep]")
    page.fill("input[name=q_email]", "not-an-email")
    page.wait_for_function(
        "document.querySelector('[data-error-for=email]').textContent"
        ".includes('Enter an email address')"
    )
    page.fill("input[name=q_email]", "rhea@client.test")
    page.wait_for_function(
        "document.querySelector('[data-autosave-status]').textContent.startsWith('Saved at')"
    )

    # A reload (or a phone dropping the tab) loses nothing.
    page.reload()
    assert (
        page.input_value("textarea[name=q_reason]")
        == "I have been sleeping badly and worrying a lot."
    )
    assert page.is_checked("input[name=q_concerns][value=Sleep]")
    assert page.locator(".intake-q[data-key=prior_therapy_detail]").is_visible()

    page.fill("input[name=q_emergency_name]", "Theo Client")
    page.fill("input[name=q_emergency_phone]", "415-555-0199")
    with page.expect_navigation():
        page.locator("[data-submit]").tap()
    page.screenshot(path="/tmp/intake_after_submit.png", full_page=True)
    assert page.url != intake_url, (
        page.inner_text(".form-errors") if page.locator(".form-errors").count() else ""
    )
    assert titles["informed_consent"] in page.inner_text("h1")

    # The consent: answer, type the full name, draw the signature with the pointer, agree.
    page.check("input[name=q_read_and_understood][value=Yes]")
    page.check("input[name=q_consent_to_treatment][value=Yes]")
    page.fill("input[name=sig_full_name]", "Rhea Client")
    page.locator("[data-sig-canvas]").scroll_into_view_if_needed()
    draw_signature(page)
    assert page.input_value("[data-sig-image]").startswith("data:image/png;base64,")
    page.check("input[name=sig_agree]")
    with page.expect_navigation():
        page.locator("[data-submit]").tap()
    assert titles["phq9"] in page.inner_text("h1")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

    for n in range(1, 10):
        page.check(f"input[name=q_phq_{n}][value='{1 if n < 4 else 0}']")
    with page.expect_navigation():
        page.locator("[data-submit]").tap()
    page.wait_for_url(f"{base}/forms/")
    assert "Nothing to complete right now." in page.content()

    with schema_context(maple.schema_name):
        consent = Submission.objects.get(
            client_id=client_pk, template__library_key="informed_consent"
        )
        signature = Signature.objects.get(submission=consent)
        assert verify(consent)
        phq = Submission.objects.get(client_id=client_pk, template__library_key="phq9")
        intake = Submission.objects.get(client_id=client_pk, template__library_key="adult_intake")
    assert signature.method == "drawn" and signature.ip_address == "127.0.0.1"
    assert signature.user_agent
    assert (phq.score, phq.score_band) == (3, "Minimal")

    # The clinician downloads the signed consent as a PDF.
    staff.goto(f"{base}/practice/forms/submissions/{consent.pk}/")
    assert "verified" in staff.inner_text("main")
    with staff.expect_download() as download_info:
        staff.click("text=Download PDF")
    pdf = PdfReader(download_info.value.path())
    text = " ".join(" ".join(p.extract_text() for p in pdf.pages).split())
    assert "Informed consent for treatment" in text
    assert "I consent to treatment with this practice." in text and "Yes" in text
    assert "Electronic signature" in text and "Signer Rhea Client" in text
    assert "America/Los_Angeles" in text and "127.0.0.1" in text
    assert consent.document_hash in text.replace(" ", "")

    # And the intake questionnaire, reached from the client's page.
    staff.goto(f"{base}/practice/clients/{client_pk}/")
    staff.click(f"li[data-submission='{intake.pk}'] >> text=View")
    with staff.expect_download() as download_info:
        staff.click("text=Download PDF")
    intake_pdf = PdfReader(download_info.value.path())
    intake_text = " ".join(" ".join(p.extract_text() for p in intake_pdf.pages).split())
    assert "I have been sleeping badly and worrying a lot." in intake_text
    assert "+14155550134" in intake_text and "Talking helped." in intake_text
    desk.close()
    phone.close()


def test_the_builder_reorders_questions_by_keyboard_and_by_drag(
    maple, browser, live_server_url, db
):
    base = live_server_url("maple-forms")
    # Tall enough that the drag needs no scrolling.
    desk = browser.new_context(viewport={"width": 1280, "height": 2600})
    page = desk.new_page()
    sign_in(page, f"{base}/practice/sign-in/", OWNER)
    page.goto(f"{base}/practice/forms/new/")
    page.fill("[data-b=title]", "Sleep diary")
    for kind, label in (("short_text", "First"), ("yes_no", "Second"), ("paragraph", "Third")):
        page.select_option("[data-builder-add-type]", kind)
        page.click("[data-builder-add]")
        page.locator(".builder-q").last.locator("[data-field=label]").fill(label)

    def labels():
        return [
            page.locator(".builder-q").nth(i).locator("[data-field=label]").input_value()
            for i in range(page.locator(".builder-q").count())
        ]

    # Keyboard: focus the third question's handle, Alt+Up twice.
    page.locator(".builder-q").nth(2).locator(".builder-handle").focus()
    page.keyboard.press("Alt+ArrowUp")
    page.keyboard.press("Alt+ArrowUp")
    assert labels() == ["Third", "First", "Second"]
    assert "position 1 of 3" in page.inner_text("[data-builder-announce]")
    # Drag: the first question onto the last.
    # Drop on the target's padding rather than on one of its inputs.
    page.locator(".builder-q").nth(0).locator(".builder-handle").drag_to(
        page.locator(".builder-q").nth(2), target_position={"x": 300, "y": 6}
    )
    assert labels() == ["First", "Second", "Third"]

    page.click("button:has-text('Save')")
    page.wait_for_url(re.compile(r"/practice/forms/\d+/$"))
    assert "Saved as version 1." in page.content()
    with schema_context(maple.schema_name):
        version = FormTemplate.objects.get(name="Sleep diary").current_version
        assert [q["label"] for q in version.definition["questions"]] == ["First", "Second", "Third"]
    desk.close()
