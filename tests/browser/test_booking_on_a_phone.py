"""On a phone: a client requests an appointment, staff approve it, the client cancels it."""

import re
from collections.abc import Iterator
from datetime import time

import pytest
from django.db import connection
from django_tenants.utils import schema_context

from shared_apps.plans.models import Plan
from tenant_apps.accounts.models import Role, User
from tenant_apps.booking.models import Appointment, BookableService, BookingSettings, WorkingHours
from tenant_apps.clients.models import Client
from tenants.models import Practice
from tests.browser.conftest import PHONE
from tests.personas import PASSWORD, Persona
from tests.practices import drop_practice, provision_test_practice

pytestmark = pytest.mark.browser

OWNER = Persona("olga", "olga@bloom.test", "Olga Owner", Role.OWNER)
CLIENT = Persona("pia", "pia@client.test", "Pia Client", Role.CLIENT)


@pytest.fixture(scope="module")
def bloom(django_db_setup, django_db_blocker) -> Iterator[Practice]:
    """A committed Professional practice with booking on: Olga sees clients every day.
    Module-scoped, so it is committed before the test's own transaction begins."""
    with django_db_blocker.unblock():
        practice = provision_test_practice(
            "Bloom Therapy", "bloom-booking", Plan.PROFESSIONAL, "America/New_York", (OWNER, CLIENT)
        )
        with schema_context(practice.schema_name):
            BookingSettings.objects.update_or_create(
                singleton=True,
                defaults={"enabled": True, "min_notice_hours": 24, "slot_interval_minutes": 60},
            )
            olga = User.objects.get(email=OWNER.email)
            pia = User.objects.get(email=CLIENT.email)
            Client.objects.create(
                legal_first_name="Pia", legal_last_name="Client", email=pia.email, user=pia
            )
            WorkingHours.objects.bulk_create(
                WorkingHours(clinician=olga, weekday=day, start_time=time(9), end_time=time(17))
                for day in range(7)
            )
            service = BookableService.objects.create(
                name="Consultation", duration_minutes=50, fee=12000
            )
            service.clinicians.add(olga)
        try:
            yield practice
        finally:
            connection.set_schema_to_public()
            drop_practice(practice)


def time_of_day(text: str) -> int:
    """Minutes since midnight of '1:00 PM'."""
    clock, half = text.split()
    hours, minutes = (int(part) for part in clock.split(":"))
    return (hours % 12 + (12 if half == "PM" else 0)) * 60 + minutes


def sign_in(page, url: str, person: Persona) -> None:
    page.goto(url)
    page.fill("input[name=username]", person.email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")


def test_request_approve_and_cancel_on_a_phone(
    bloom, browser, live_server_url, django_db_blocker, db
):
    base = live_server_url("bloom-booking")
    # The client's phone is in Los Angeles; the practice is in New York.
    phone = browser.new_context(
        viewport=PHONE, has_touch=True, is_mobile=True, timezone_id="America/Los_Angeles"
    )
    staff = browser.new_context(viewport={"width": 1280, "height": 800})
    try:
        client_page = phone.new_page()
        sign_in(client_page, f"{base}/sign-in/", CLIENT)
        client_page.get_by_role("link", name="Request appointment").first.tap()
        client_page.get_by_role("link", name=re.compile("Consultation")).tap()
        # One clinician: straight to the days. The page learns the phone's zone.
        client_page.wait_for_selector("text=your time (America/Los_Angeles)")
        first_slot = client_page.locator("a.slot").first
        slot_text = first_slot.inner_text()
        times = re.fullmatch(
            r"(\d+:\d\d [AP]M) E[SD]T \((\d+:\d\d [AP]M) P[SD]T your time\)", slot_text
        )
        assert times is not None, slot_text
        practice_time, own_time = (time_of_day(t) for t in times.groups())
        assert practice_time - own_time == 3 * 60
        first_slot.tap()
        client_page.get_by_role("button", name="Send request").tap()
        client_page.wait_for_selector("text=Your request is sent")
        assert "waiting for Bloom Therapy to confirm" in client_page.content()
        detail_url = client_page.url

        with schema_context(bloom.schema_name):
            appointment = Appointment.objects.get()
        assert appointment.status == "requested"

        staff_page = staff.new_page()
        sign_in(staff_page, f"{base}/practice/sign-in/", OWNER)
        staff_page.goto(f"{base}/practice/calendar/")
        staff_page.get_by_role("link", name="Pia Client").first.click()
        staff_page.fill("textarea[name=message]", "Looking forward to meeting you.")
        staff_page.get_by_role("button", name="Approve").click()
        staff_page.wait_for_selector("text=Request answered")

        client_page.goto(detail_url)
        assert "Looking forward to meeting you." in client_page.content()
        assert client_page.locator(".status").inner_text().startswith("Confirmed")
        client_page.get_by_role("button", name="Cancel appointment").tap()
        client_page.wait_for_selector("text=Your appointment is cancelled.")

        with schema_context(bloom.schema_name):
            appointment.refresh_from_db()
        assert appointment.status == "cancelled" and not appointment.late_cancellation
    finally:
        phone.close()
        staff.close()
