"""The whole journey in a real browser, the way the help page tells it.

An operator provisions a Professional practice in the console; its owner sets a password from
the invitation that arrives at a real SMTP server, fills in the Practice Details, edits and
locks the portal address, opens the portal and copies its link; the owner adds and invites a
client and sends forms and a demographics request; the client accepts the invitation from the
email and, on a phone, fills and signs everything; the owner reviews, shares a document and
sends an invoice, a statement and a superbill, which the client opens; the client requests an
appointment, the owner approves it and the client cancels it. On a Starter practice, booking
is nowhere in the portal and refused when asked for directly.

Every step saves a screenshot (SWASTH_TOUR_DIR=docs/tour writes them into the repository) and
every page is checked with axe-core at desktop and phone sizes.
"""

import os
import re
from collections.abc import Iterator

import pytest
from django_tenants.utils import schema_context

from shared_apps.payments.models import StripeAccount
from shared_apps.plans.models import Plan
from tenant_apps.accounts.models import Role, User
from tenant_apps.billing.models import Invoice
from tenant_apps.booking.models import Appointment
from tenant_apps.clients.models import Client
from tenant_apps.intake.models import FormTemplate
from tenants.models import Practice
from tenants.schemas import connection
from tests.browser.conftest import DESKTOP, PHONE, SmtpInbox, Tour, email_text, link_in
from tests.documents.samples import PDF as SAMPLE_PDF
from tests.personas import PASSWORD, Persona
from tests.practices import drop_practice, provision_test_practice

pytestmark = pytest.mark.browser

OPERATOR_EMAIL = "noor@platform.test"
OPERATOR_PASSWORD = "operator-console-2026"
OWNER_EMAIL = "lena@willow.test"
OWNER_PASSWORD = "kettle lantern orchard 47"
CLIENT_EMAIL = "omar@client.test"
CLIENT_PASSWORD = "harbor pebble violin 82"
FIRST_SLUG = "willow-creek"
LOCKED_SLUG = "willow-creek-therapy"
PACKET = ("adult_intake", "informed_consent", "phq9")
WEEK = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")

# Public tables that point at an operator account.
OPERATOR_TABLES = ("accounts_user_groups", "accounts_user_user_permissions", "django_admin_log")

STARTER_OWNER = Persona("tomas", "tomas@fern.test", "Tomas Owner", Role.OWNER)
STARTER_CLIENT = Persona("yara", "yara@client.test", "Yara Client", Role.CLIENT)


@pytest.fixture(scope="module")
def operator(django_db_setup, django_db_blocker) -> Iterator[User]:
    """An operator account in the public schema, committed for the live server."""
    with django_db_blocker.unblock():
        user = User.objects.create_superuser(
            OPERATOR_EMAIL, OPERATOR_PASSWORD, full_name="Noor Operator"
        )
        try:
            yield user
        finally:
            connection.set_schema_to_public()
            # The user model is shared by practice schemas, so Django's cascade would look for
            # their tables in the public schema: delete the public rows directly.
            with connection.cursor() as cursor:
                for table in OPERATOR_TABLES:
                    cursor.execute(f"DELETE FROM {table} WHERE user_id = %s", [user.pk])
                cursor.execute("DELETE FROM accounts_user WHERE id = %s", [user.pk])
            for practice in Practice.objects.filter(name="Willow Creek Therapy"):
                StripeAccount.objects.filter(practice=practice).delete()
                drop_practice(practice)


@pytest.fixture(scope="module")
def fern(django_db_setup, django_db_blocker) -> Iterator[Practice]:
    """A committed Starter practice with one client."""
    with django_db_blocker.unblock():
        practice = provision_test_practice(
            "Fern Counseling",
            "fern-starter",
            Plan.STARTER,
            "Europe/London",
            (STARTER_OWNER, STARTER_CLIENT),
        )
        with schema_context(practice.schema_name):
            user = User.objects.get(email=STARTER_CLIENT.email)
            Client.objects.create(
                legal_first_name="Yara", legal_last_name="Client", email=user.email, user=user
            )
        try:
            yield practice
        finally:
            connection.set_schema_to_public()
            drop_practice(practice)


def draw_signature(page) -> None:
    box = page.locator("[data-sig-canvas]").bounding_box()
    x, y, w, h = box["x"], box["y"], box["width"], box["height"]
    page.mouse.move(x + w * 0.1, y + h * 0.7)
    page.mouse.down()
    for step in range(1, 21):
        page.mouse.move(x + w * (0.1 + 0.04 * step), y + h * (0.7 - 0.4 * ((step % 4) / 4)))
    page.mouse.up()


def fetch(page, url: str) -> dict[str, object]:
    """GET `url` from the page with its cookies (Playwright's own request context cannot
    resolve *.localhost names)."""
    return page.evaluate(
        "async (url) => { const r = await fetch(url, {credentials: 'same-origin'});"
        " return {status: r.status, type: r.headers.get('content-type')}; }",
        url,
    )


def post_from(page, url: str) -> dict[str, object]:
    """POST to `url` from the page, as a script on it could: with the page's cookies and the
    CSRF token of its sign-out form (a missing form fails here, not as a CSRF 403)."""
    return page.evaluate(
        "async (url) => { const token = document.querySelector('[name=csrfmiddlewaretoken]');"
        " const body = new URLSearchParams({csrfmiddlewaretoken: token.value,"
        " start: '2027-01-05T15:00:00Z', first_name: 'A', last_name: 'B', email: 'a@b.test'});"
        " const r = await fetch(url, {method: 'POST', body, credentials: 'same-origin'});"
        " return {status: r.status, text: await r.text()}; }",
        url,
    )


def sign_in(page, url: str, email: str, password: str, *, tour: Tour) -> None:
    page.goto(url)
    tour.check(page, "sign-in")
    page.fill("input[name=username]", email)
    page.fill("input[name=password]", password)
    page.click("button[type=submit], input[type=submit]")


def test_the_journey_from_a_new_practice_to_a_working_client_portal(
    operator,
    fern,
    stripe_stack,
    stripe_in_browser,
    browser,
    live_server_port,
    smtp_inbox: SmtpInbox,
    tour: Tour,
    settings,
    tmp_path,
    db,
):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.DOCUMENTS_ROOT = str(tmp_path / "documents")
    platform = f"http://localhost:{live_server_port}"

    desk = browser.new_context(viewport=DESKTOP)
    desk.grant_permissions(["clipboard-read", "clipboard-write"])
    staff = desk.new_page()

    # The operator provisions the practice in the console.
    sign_in(staff, f"{platform}/operator/", OPERATOR_EMAIL, OPERATOR_PASSWORD, tour=tour)
    staff.goto(f"{platform}/operator/tenants/practice/add/")
    staff.fill("#id_name", "Willow Creek Therapy")
    staff.fill("#id_slug", FIRST_SLUG)
    staff.fill("#id_owner_email", OWNER_EMAIL)
    staff.fill("#id_owner_name", "Lena Fairweather")
    staff.select_option("#id_plan", label="Professional")
    staff.select_option("#id_time_zone", "America/Chicago")
    tour.step(staff, "operator-provisions", "The operator provisions a Professional practice.")
    staff.click("input[type=submit]")
    staff.wait_for_url(re.compile(r"/operator/tenants/practice/$"))
    assert "Provisioned Willow Creek Therapy" in staff.inner_text("body")
    tour.step(staff, "operator-console", "The practice is listed in the operator console.")

    # The owner's invitation, through a real SMTP server.
    invitation = smtp_inbox.wait_for(OWNER_EMAIL)
    staff.goto(link_in(invitation))
    tour.step(staff, "owner-welcome", "The owner chooses a password from the emailed link.")
    staff.fill("input[name=new_password1]", OWNER_PASSWORD)
    staff.fill("input[name=new_password2]", OWNER_PASSWORD)
    staff.click("text=Save password and sign in")
    staff.wait_for_url(re.compile(r"/practice/$"))
    tour.step(staff, "workspace-home", "The owner lands in the practice workspace.")
    base = f"http://{FIRST_SLUG}.localhost:{live_server_port}"

    # Practice Details.
    staff.goto(f"{base}/practice/settings/details/")
    staff.fill("#id_name", "Willow Creek Therapy")
    staff.fill("#id_time_zone", "America/Chicago")
    staff.fill("#id_phone", "312 555 0142")
    staff.fill("#id_address_line1", "410 Lakeview Avenue")
    staff.fill("#id_city", "Chicago")
    staff.fill("#id_region", "IL")
    staff.fill("#id_postal_code", "60614")
    staff.fill("#id_country", "US")
    staff.fill(
        "#id_cancellation_policy",
        "Please cancel at least 24 hours ahead so another client can use the time.",
    )
    staff.click("text=Save details")
    staff.wait_for_selector("text=Practice details saved.")
    tour.step(
        staff, "practice-details", "Practice Details: name, time zone, phone, address, policy."
    )

    # Client Portal: edit the address, Save & Lock, view and copy it.
    staff.goto(f"{base}/practice/settings/client-portal/")
    staff.fill("#id_slug", LOCKED_SLUG)
    tour.step(staff, "portal-address", "Client Portal: the owner edits the portal address.")
    staff.click("button:has-text('Save & Lock')")
    staff.wait_for_selector("text=Lock your portal address?")
    tour.step(staff, "portal-lock-confirm", "Locking is confirmed before it happens.")
    staff.click("button:has-text('Yes, Save & Lock')")
    # The practice moved host; the owner is handed over to it, still signed in.
    base = f"http://{LOCKED_SLUG}.localhost:{live_server_port}"
    staff.wait_for_url(f"{base}/practice/settings/client-portal/")
    assert staff.input_value("#portal-url") == f"{base}/"
    assert "Your portal address is locked." in staff.inner_text("main")
    tour.step(staff, "portal-locked", "Locked: View Client Portal and Copy Link appear.")
    with staff.expect_popup() as popup_info:
        staff.click("text=View Client Portal")
    portal_tab = popup_info.value
    portal_tab.wait_for_load_state()
    assert portal_tab.url.startswith(f"{base}/")
    tour.step(portal_tab, "portal-new-tab", "View Client Portal opens the portal in a new tab.")
    portal_tab.close()
    staff.click("text=Copy Link")
    staff.wait_for_selector(".copy-status:not(:empty)")
    assert staff.evaluate("navigator.clipboard.readText()") == f"{base}/"

    willow_schema = Practice.objects.get(name="Willow Creek Therapy").schema_name
    with schema_context(willow_schema):
        titles = dict(
            FormTemplate.objects.filter(library_key__in=PACKET).values_list("library_key", "name")
        )

    # A client is added and invited, and sent the intake packet and a demographics request.
    staff.goto(f"{base}/practice/clients/new/")
    staff.fill("#id_legal_first_name", "Omar")
    staff.fill("#id_legal_last_name", "Quill")
    staff.fill("#id_email", CLIENT_EMAIL)
    tour.step(staff, "client-new", "The owner adds a client.")
    staff.click("main button[type=submit]:has-text('Save')")
    staff.wait_for_selector("text=Client added.")
    client_url = staff.url
    tour.check(staff, "client added")
    sent_before_invitation = len(smtp_inbox.messages)
    staff.click("text=Invite to Client Portal")
    staff.wait_for_selector("[data-portal-status=invited]")
    client_invitation = smtp_inbox.wait_for(CLIENT_EMAIL, after=sent_before_invitation)

    staff.click("text=Send forms")
    for key in PACKET:
        staff.check(f"label:has-text('{titles[key]}') input")
    tour.step(staff, "send-forms", "Forms from the built-in library: intake, consent, PHQ-9.")
    staff.click("main button:has-text('Send')")
    staff.wait_for_url(client_url)
    staff.click("text=Request demographic information")
    staff.wait_for_selector("text=Requested")
    tour.step(staff, "client-record", "The client record: invited, forms and details requested.")

    # The client accepts the invitation from the email, on a phone.
    phone = browser.new_context(viewport=PHONE, has_touch=True, is_mobile=True)
    page = phone.new_page()
    page.goto(link_in(client_invitation))
    page.fill("input[name=new_password1]", CLIENT_PASSWORD)
    page.fill("input[name=new_password2]", CLIENT_PASSWORD)
    tour.step(page, "client-accepts", "The client sets a password from the invitation email.")
    page.locator("button:has-text('Set password and sign in')").tap()
    page.wait_for_url(f"{base}/")
    tasks = page.locator("#tasks-heading + ul a").all_inner_texts()
    assert [f"Complete: {titles[key]}" for key in PACKET] == [
        task for task in tasks if task.startswith("Complete:")
    ]
    assert "Review and update your information" in tasks
    tour.step(page, "client-portal-home", "The client's portal home lists what is waiting.")

    page.locator("#tasks-heading + ul a", has_text="Complete:").first.tap()
    page.wait_for_url(re.compile(r"/forms/\d+/$"))
    page.check("input[name=q_prior_therapy][value=No]")
    page.fill("input[name=q_date_of_birth]", "1988-04-09")
    page.fill("input[name=q_phone]", "(312) 555-0188")
    page.check("input[name=q_ok_to_leave_message][value=Yes]")
    page.fill("textarea[name=q_reason]", "Work has been stressful and I would like some support.")
    page.check("input[name=q_concerns][value=Stress]")
    page.fill("input[name=q_email]", CLIENT_EMAIL)
    page.fill("input[name=q_emergency_name]", "Ada Quill")
    page.fill("input[name=q_emergency_phone]", "312-555-0199")
    page.wait_for_function(
        "document.querySelector('[data-autosave-status]').textContent.startsWith('Saved at')"
    )
    tour.step(page, "client-intake", "The intake questionnaire, saved as the client types.")
    with page.expect_navigation():
        page.locator("[data-submit]").tap()
    assert titles["informed_consent"] in page.inner_text("h1")

    page.check("input[name=q_read_and_understood][value=Yes]")
    page.check("input[name=q_consent_to_treatment][value=Yes]")
    page.fill("input[name=sig_full_name]", "Omar Quill")
    page.locator("[data-sig-canvas]").scroll_into_view_if_needed()
    draw_signature(page)
    page.check("input[name=sig_agree]")
    tour.step(page, "client-consent", "The consent, signed with a finger on the phone.")
    with page.expect_navigation():
        page.locator("[data-submit]").tap()
    assert titles["phq9"] in page.inner_text("h1")

    for number in range(1, 10):
        page.check(f"input[name=q_phq_{number}][value='{1 if number < 3 else 0}']")
    tour.step(page, "client-phq9", "The PHQ-9 screening measure.")
    with page.expect_navigation():
        page.locator("[data-submit]").tap()
    page.wait_for_url(f"{base}/forms/")
    assert "Nothing to complete right now." in page.content()
    tour.check(page, "forms done")

    page.goto(f"{base}/")
    page.get_by_role("link", name="Review and update your information").tap()
    page.wait_for_url(re.compile(r"/demographics/\d+/$"))
    page.fill("#id_date_of_birth", "1988-04-09")
    page.fill("#id_mobile_phone", "312 555 0188")
    page.fill("#id_address_line1", "22 Orchard Street")
    page.fill("#id_city", "Evanston")
    page.fill("#id_region", "IL")
    page.fill("#id_postal_code", "60201")
    tour.step(page, "client-demographics", "The client updates their details.")
    page.locator("main button[type=submit]:has-text('Submit')").tap()
    page.wait_for_url(f"{base}/")
    assert page.locator("#tasks-heading").count() == 0

    # The owner reviews the forms and accepts the new details.
    staff.goto(client_url)
    submissions = staff.locator("#forms-panel-heading ~ div li[data-submission] a:has-text('View')")
    assert submissions.count() == len(PACKET)
    for index in range(len(PACKET)):
        staff.goto(client_url)
        staff.locator("#forms-panel-heading ~ div li[data-submission] a:has-text('View')").nth(
            index
        ).click()
        if index == 1:
            tour.step(staff, "review-consent", "The owner reviews the signed consent.")
        else:
            tour.check(staff, "review a form")
        staff.click("button:has-text('Mark as reviewed')")
        staff.wait_for_load_state()
    staff.goto(client_url)
    staff.click("text=Review changes")
    tour.step(staff, "review-demographics", "The owner reviews the client's changes.")
    staff.click("button:has-text('Accept all')")
    staff.wait_for_url(client_url)
    assert "Apr 9, 1988" in staff.inner_text("main")

    # A document is shared.
    pdf_path = tmp_path / "Welcome to Willow Creek.pdf"
    pdf_path.write_bytes(SAMPLE_PDF)
    staff.click("text=Share documents")
    staff.set_input_files("input[name=uploads]", str(pdf_path))
    staff.fill("input[name=title]", "Welcome to Willow Creek")
    tour.step(staff, "share-document", "The owner shares a document with the client.")
    staff.click("button:has-text('Upload and share')")
    staff.wait_for_url(client_url)

    # Billing: the practice's billing profile, a service, a diagnosis; then an invoice, a
    # statement and a superbill, sent to the client.
    staff.goto(f"{base}/practice/billing/profile/")
    tour.check(staff, "billing profile")
    staff.fill("#id_legal_name", "Willow Creek Therapy LLC")
    staff.fill("#id_tax_id", "36-4567891")
    staff.fill("#id_npi_individual", "1234567893")
    staff.click("main button[type=submit]")
    staff.wait_for_load_state()
    staff.goto(f"{base}/practice/billing/services/new/")
    tour.check(staff, "billing service")
    staff.fill("#id_name", "Psychotherapy, 45 minutes")
    staff.fill("#id_cpt_code", "90834")
    staff.fill("#id_default_duration_minutes", "45")
    staff.fill("#id_fee", "150.00")
    staff.click("main button[type=submit]")
    staff.wait_for_url(re.compile(r"/practice/billing/services/$"))
    tour.check(staff, "billing services")

    staff.goto(client_url)
    staff.click("text=Open billing")
    billing_url = staff.url
    tour.check(staff, "client billing")
    staff.fill("#id_code", "F41.1")
    staff.click("button:has-text('Add code')")
    staff.wait_for_selector("text=F41.1")
    staff.click("text=New invoice")
    staff.select_option("#id_lines-0-service", label="Psychotherapy, 45 minutes")
    staff.fill("#id_lines-0-date_of_service", "2026-11-24")
    tour.step(staff, "invoice-new", "The owner issues an invoice.")
    staff.click("button:has-text('Save and issue')")
    staff.wait_for_selector("text=Invoice saved.")
    tour.check(staff, "invoice")

    staff.goto(billing_url)
    staff.click("main a:has-text('Statement')")
    tour.check(staff, "statement form")
    staff.fill("#id_start", "2026-11-01")
    staff.fill("#id_end", "2026-11-30")
    staff.click("main button[type=submit]")
    staff.wait_for_selector("text=Statement created.")
    tour.check(staff, "statement")
    staff.goto(billing_url)
    staff.click("main a:has-text('Superbill')")
    tour.check(staff, "superbill form")
    staff.check("input[name=dates][value='2026-11-24']")
    staff.click("main button[type=submit]")
    staff.wait_for_selector("text=Superbill created.")
    tour.check(staff, "superbill")
    staff.goto(billing_url)
    for box in staff.locator("input[name=document]").all():
        box.check()
    tour.step(staff, "billing-send", "An invoice, a statement and a superbill, ready to send.")
    staff.click("button:has-text('Send selected to the client')")
    staff.wait_for_load_state()
    assert staff.locator("#documents-heading ~ form li:has-text('not sent')").count() == 0

    # The client opens the document and the three billing documents.
    page.goto(f"{base}/documents/")
    tour.step(page, "client-documents", "The client sees the shared document.")
    opened = fetch(page, page.locator(".document-title a").first.get_attribute("href"))
    assert opened == {"status": 200, "type": "application/pdf"}
    page.goto(f"{base}/billing/")
    tour.step(page, "client-billing", "Billing & Payments: the invoice, statement and superbill.")
    views = page.locator("#docs-heading ~ div table a:has-text('View')")
    assert views.count() == 3
    for link in views.all():
        assert fetch(page, link.get_attribute("href")) == {"status": 200, "type": "application/pdf"}

    # Card payments. The owner connects Stripe; the test plays Stripe's hosted onboarding (an
    # outside site): it marks the account ready and sends the owner back. The client then
    # keeps a card on file and pays the invoice through the Elements form, with Stripe.js
    # replaced by the loopback stand-in that talks to the fake Stripe API.
    def finish_onboarding(route) -> None:
        account = re.search(r"acct_\w+", route.request.url)
        assert account is not None, route.request.url
        stripe_stack.fake.enable_charges(account[0])
        route.fulfill(
            status=302, headers={"Location": f"{base}/practice/settings/payments/?returned=1"}
        )

    desk.route("https://connect.stripe.test/**", finish_onboarding)
    staff.goto(f"{base}/practice/settings/payments/")
    tour.check(staff, "stripe settings")
    staff.click("button:has-text('Connect with Stripe')")
    staff.wait_for_selector("[data-status=charges]:text-is('Enabled')", timeout=20000)
    tour.step(staff, "stripe-connected", "The owner connects Stripe: card payments are on.")

    page.goto(f"{base}/cards/add/")
    page.fill("#card-element [name=cardnumber]", "4242 4242 4242 4242")
    page.fill("#card-element [name=exp-date]", "12 / 31")
    page.fill("#card-element [name=cvc]", "123")
    page.check("input[name=authorize]")
    tour.step(page, "client-add-card", "The client adds a card; its number goes only to Stripe.")
    page.click("#card-submit")
    page.wait_for_url(f"{base}/cards/")
    assert "Visa ending 4242" in page.inner_text("main")
    tour.check(page, "cards")
    page.goto(f"{base}/billing/")
    page.click("text=Pay by card")
    page.wait_for_url(f"{base}/billing/pay/")
    page.check("input[name=scope][value=invoices]")
    page.locator("input[name=invoices]").first.check()
    page.locator("input[name=card]").first.check()
    tour.step(page, "client-pay", "The client pays the invoice with the card on file.")
    page.click("#pay-submit")
    page.wait_for_url("**/receipt/")
    assert "Payment received" in page.inner_text("main")
    assert "$150.00" in page.inner_text("main")
    tour.step(page, "client-receipt", "The payment is received; the invoice is paid.")
    with schema_context(willow_schema):
        assert Invoice.objects.get().status == "paid"

    # Online booking (Professional): the owner sets it up, the client requests an
    # appointment, the owner approves it and the client cancels it within the policy.
    staff.goto(f"{base}/practice/settings/online-booking/")
    staff.check("#id_enabled")
    staff.fill("#id_min_notice_hours", "48")
    staff.click("button:has-text('Save settings')")
    staff.wait_for_load_state()
    staff.click("text=Add a service")
    tour.check(staff, "booking service")
    staff.fill("#id_name", "Consultation")
    staff.fill("#id_duration_minutes", "50")
    staff.check("label:has-text('Lena Fairweather') input")
    staff.click("button:has-text('Save service')")
    staff.wait_for_url(f"{base}/practice/settings/online-booking/")
    staff.click("main li a:has-text('Lena Fairweather')")
    tour.check(staff, "working hours")
    staff.fill("#id_hours", "\n".join(f"{day} 09:00-17:00" for day in WEEK))
    staff.click("button:has-text('Save weekly hours')")
    staff.wait_for_load_state()
    staff.goto(f"{base}/practice/settings/online-booking/")
    tour.step(staff, "booking-settings", "Online booking on, with a service and weekly hours.")

    page.goto(f"{base}/")
    page.get_by_role("link", name="Request appointment").first.tap()
    page.wait_for_url(f"{base}/appointments/new/")
    tour.step(page, "client-booking-services", "The client picks a service.")
    page.get_by_role("link", name=re.compile("Consultation")).tap()
    page.locator("a.slot").first.wait_for()
    tour.step(page, "client-booking-slots", "Open times, in the practice's zone.")
    page.locator("a.slot").first.tap()
    page.get_by_role("button", name="Send request").wait_for()
    tour.check(page, "booking confirm")
    page.get_by_role("button", name="Send request").tap()
    page.wait_for_selector("text=Your request is sent")
    appointment_url = page.url
    tour.check(page, "request sent")

    staff.goto(f"{base}/practice/calendar/")
    tour.check(staff, "calendar")
    staff.get_by_role("link", name="Omar Quill").first.click()
    tour.step(staff, "approve-request", "The owner approves the request.")
    staff.get_by_role("button", name="Approve").click()
    staff.wait_for_selector("text=Request answered")
    tour.check(staff, "request answered")

    page.goto(appointment_url)
    assert page.locator(".status").inner_text().startswith("Confirmed")
    tour.step(page, "client-appointment", "The client sees the confirmed appointment.")
    page.get_by_role("button", name="Cancel appointment").tap()
    page.wait_for_selector("text=Your appointment is cancelled.")
    tour.step(page, "client-cancelled", "Cancelled within the policy, with no late fee.")
    with schema_context(willow_schema):
        appointment = Appointment.objects.get()
    assert appointment.status == "cancelled" and not appointment.late_cancellation

    # Starter: booking is nowhere in the portal, and refused when asked for directly.
    starter = browser.new_context(viewport=PHONE, has_touch=True, is_mobile=True)
    starter_page = starter.new_page()
    starter_base = f"http://fern-starter.localhost:{live_server_port}"
    sign_in(starter_page, f"{starter_base}/sign-in/", STARTER_CLIENT.email, PASSWORD, tour=tour)
    starter_page.wait_for_url(f"{starter_base}/")
    assert "appointment" not in starter_page.inner_text("body").lower()
    assert starter_page.locator("a[href*='appointments'], a[href*='/book/']").count() == 0
    tour.step(starter_page, "starter-portal", "On Starter, the portal has no booking at all.")
    for path in ("/appointments/", "/appointments/new/", "/book/"):
        assert fetch(starter_page, path)["status"] == 403, path
    for path in ("/appointments/new/1/1/confirm/", "/book/1/1/confirm/"):
        refused_post = post_from(starter_page, path)
        assert refused_post["status"] == 403, path
        assert "plan doesn't include online booking" in str(refused_post["text"]), path
    with schema_context(fern.schema_name):
        assert not Appointment.objects.exists()
    refused = starter_page.goto(f"{starter_base}/appointments/new/")
    assert refused is not None and refused.status == 403
    tour.step(starter_page, "starter-refused", "Asked for directly, booking is refused (403).")

    # No email carried anything clinical: each says something is waiting and links to it.
    for message in smtp_inbox.messages:
        text = email_text(message)
        for clinical in (*titles.values(), "PHQ", "F41.1", "150.00", "Consultation"):
            assert clinical not in text, (message["Subject"], clinical)

    if os.environ.get("SWASTH_TOUR_DIR"):
        tour.write_index(
            "A tour of Swasth for Clinicians",
            "Screenshots from the journey test (`tests/browser/test_journey.py`), in order. "
            "Regenerate them with `SWASTH_TOUR_DIR=docs/tour .venv/bin/pytest "
            "tests/browser/test_journey.py`.",
        )
    tour.assert_accessible()
    desk.close()
    phone.close()
    starter.close()
