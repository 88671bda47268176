"""A clinician uploads a PDF with the progress bar and shares it; the client opens it on a
phone, and the clinician sees that it was viewed."""

import hashlib
import json
import re
from collections.abc import Iterator

import pytest
from django.db import connection
from django_tenants.utils import schema_context
from playwright.sync_api import expect

from shared_apps.plans.models import Plan
from tenant_apps.accounts.models import Role, User
from tenant_apps.clients.models import Client
from tenants.models import Practice
from tests.browser.conftest import PHONE
from tests.documents.samples import PDF
from tests.personas import PASSWORD, Persona
from tests.practices import drop_practice, provision_test_practice

pytestmark = pytest.mark.browser

OWNER = Persona("olive", "olive@willow-docs.test", "Olive Owner", Role.OWNER)
CLIENT = Persona("quinn", "quinn@client.test", "Quinn Client", Role.CLIENT)
# Big enough that the browser reports upload progress along the way.
LARGE_PDF = PDF.replace(b"%%EOF", b"%" + b"x" * 3_000_000 + b"\n%%EOF")


@pytest.fixture(scope="module")
def willow(django_db_setup, django_db_blocker) -> Iterator[Practice]:
    with django_db_blocker.unblock():
        practice = provision_test_practice(
            "Willow Documents", "willow-docs", Plan.STARTER, "America/Chicago", (OWNER, CLIENT)
        )
        with schema_context(practice.schema_name):
            quinn = User.objects.get(email=CLIENT.email)
            Client.objects.create(
                legal_first_name="Quinn",
                legal_last_name="Client",
                email=quinn.email,
                user=quinn,
                assigned_clinician=User.objects.get(email=OWNER.email),
            )
        try:
            yield practice
        finally:
            connection.set_schema_to_public()
            drop_practice(practice)


@pytest.fixture
def documents_dir(settings, tmp_path):
    settings.DOCUMENTS_STORAGE_KIND = "filesystem"
    settings.DOCUMENTS_ROOT = str(tmp_path / "documents")
    return tmp_path / "documents"


def sign_in(page, url: str, person: Persona) -> None:
    page.goto(url)
    page.fill("input[name=username]", person.email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")


RECORD_PROGRESS = """() => {
  const bar = document.querySelector("#upload-progress-bar");
  const box = document.querySelector("[data-upload-progress]");
  const keep = () => {
    const seen = JSON.parse(sessionStorage.getItem("progress") || "[]");
    seen.push({value: Number(bar.value), visible: !box.hidden});
    sessionStorage.setItem("progress", JSON.stringify(seen));
  };
  new MutationObserver(keep).observe(bar, {attributes: true});
  new MutationObserver(keep).observe(box, {attributes: true});
}"""


FETCH_DIGEST = """async (url) => {
  const response = await fetch(url, {credentials: "same-origin"});
  const digest = await crypto.subtle.digest("SHA-256", await response.arrayBuffer());
  const hex = Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
  return {sha256: hex, disposition: response.headers.get("content-disposition")};
}"""


def test_a_pdf_is_uploaded_shared_and_opened_on_a_phone(
    willow, browser, live_server_url, documents_dir, tmp_path, db
):
    base = live_server_url("willow-docs")
    with schema_context(willow.schema_name):
        client_pk = Client.objects.get(email=CLIENT.email).pk
    pdf_path = tmp_path / "Welcome packet.pdf"
    pdf_path.write_bytes(LARGE_PDF)

    desk = browser.new_context(viewport={"width": 1280, "height": 800})
    staff = desk.new_page()
    sign_in(staff, f"{base}/practice/sign-in/", OWNER)
    staff.goto(f"{base}/practice/clients/{client_pk}/")
    staff.click("text=Share documents")
    staff.set_input_files("input[name=uploads]", str(pdf_path))
    expect(staff.locator("[data-drop-list]")).to_contain_text("Welcome packet.pdf")
    staff.fill("input[name=title]", "Welcome packet")
    staff.fill("textarea[name=message]", "Please read this before we meet.")
    assert staff.locator("[data-upload-progress]").is_hidden()
    staff.evaluate(RECORD_PROGRESS)
    staff.click("button:has-text('Upload and share')")
    staff.wait_for_url(f"{base}/practice/clients/{client_pk}/")

    progress = json.loads(staff.evaluate("sessionStorage.getItem('progress')"))
    assert progress[0]["visible"]
    assert progress[-1]["value"] == 100
    assert "Welcome packet" in staff.inner_text("#documents-panel-heading + h3 + ul")
    assert "not opened yet" in staff.content()

    phone = browser.new_context(viewport=PHONE, has_touch=True, is_mobile=True)
    page = phone.new_page()
    sign_in(page, f"{base}/sign-in/", CLIENT)
    page.wait_for_url(f"{base}/")
    assert page.inner_text("[data-new-documents]") == "1 new"
    page.click("#documents-heading a")
    page.wait_for_url(f"{base}/documents/")
    item = page.locator(".document-item", has_text="Welcome packet")
    assert item.locator("[data-new]").is_visible()
    assert "PDF" in item.inner_text() and "Please read this before we meet." in item.inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

    with page.expect_response(re.compile(r"/documents/\d+/view/$")) as opened:
        item.locator(".document-title a").tap()
    response = opened.value
    page.wait_for_url(re.compile(r"/documents/\d+/view/$"), wait_until="commit")
    assert response.status == 200
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["content-disposition"] == 'inline; filename="Welcome packet.pdf"'
    assert response.headers["cache-control"] == "private, no-store"

    # Chromium hands the stream to its PDF viewer, so compare the bytes of a download.
    page.goto(f"{base}/documents/")
    downloaded = page.evaluate(FETCH_DIGEST, response.url.replace("/view/", "/download/"))
    assert downloaded == {
        "sha256": hashlib.sha256(LARGE_PDF).hexdigest(),
        "disposition": 'attachment; filename="Welcome packet.pdf"',
    }
    assert page.locator(".document-item [data-new]").count() == 0

    staff.reload()
    assert "first viewed" in staff.inner_text("#documents-panel-heading + h3 + ul")
    desk.close()
    phone.close()
