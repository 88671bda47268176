"""Sending forms to a client: the packet, the email and portal task, statuses, reminders and
cancelling, and who may do any of it."""

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.core import mail
from django.utils import timezone
from django_tenants.utils import schema_context

from tenant_apps.intake.models import FormRequest, Submission
from tests.conftest import host_client, signed_in
from tests.intake.conftest import send, submissions_of

PACKET = ["adult_intake", "informed_consent", "phq9"]


@pytest.fixture
def packet(sunrise, bob, carol_record, library, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        return send(
            sunrise,
            carol_record,
            bob,
            PACKET,
            library,
            due_date=date(2099, 1, 31),
            message="See you Tuesday.",
        )


def ids(library, keys):
    return [str(library[key].pk) for key in keys]


def test_the_clinician_sends_a_packet_in_the_order_chosen(
    bob_browser, carol_record, library, sunrise, django_capture_on_commit_callbacks
):
    order = ["phq9", "adult_intake", "informed_consent"]
    with django_capture_on_commit_callbacks(execute=True):
        response = bob_browser.post(
            f"/practice/forms/clients/{carol_record.pk}/send/",
            {
                "template": ids(library, order),
                "due_date": "2099-02-01",
                "message": "Before our first session",
            },
        )
    assert response.status_code == 302
    with schema_context(sunrise.schema_name):
        form_request = FormRequest.objects.get(client=carol_record)
        items = list(form_request.submissions.order_by("position"))
    assert [s.template_id for s in items] == [library[key].pk for key in order]
    assert [s.version_id for s in items] == [library[key].current_version_id for key in order]
    assert form_request.due_date == date(2099, 2, 1)
    (message,) = mail.outbox
    assert message.to == ["carol@client.test"]


def test_the_email_says_only_that_forms_are_waiting(packet):
    (message,) = mail.outbox
    text = message.subject + message.body
    assert "http://sunrise.localhost:8000/" in message.body
    for secret in ("intake", "consent", "PHQ", "Depression", "See you Tuesday", "Carol", "depress"):
        assert secret.lower() not in text.lower()


def test_the_portal_home_lists_the_outstanding_forms_in_order(packet, carol_browser, sunrise):
    home = carol_browser.get("/").content.decode()
    items = submissions_of(sunrise, packet)
    positions = [home.index(f"/forms/{s.pk}/") for s in items]
    assert positions == sorted(positions)
    assert "Complete: Adult intake questionnaire" in home


def test_the_client_page_shows_each_form_with_its_status(
    packet, bob_browser, carol_record, carol_browser, sunrise
):
    intake, consent, phq = submissions_of(sunrise, packet)
    carol_browser.get(f"/forms/{consent.pk}/")
    carol_browser.post(f"/forms/{phq.pk}/draft/", {"q_phq_1": "2"})
    page = bob_browser.get(f"/practice/clients/{carol_record.pk}/").content.decode()
    assert f'data-submission="{intake.pk}" data-status="sent"' in page
    assert f'data-submission="{consent.pk}" data-status="viewed"' in page
    assert f'data-submission="{phq.pk}" data-status="in_progress"' in page
    assert 'data-request-status="in_progress"' in page


DUE = date(2099, 3, 7)
# The due day ends at midnight in New York (EST, UTC-5), not at midnight UTC.
LAST_MINUTE_OF_THE_DUE_DAY = datetime(2099, 3, 8, 4, 59, tzinfo=UTC)
FIRST_MINUTE_AFTER = datetime(2099, 3, 8, 5, 1, tzinfo=UTC)


def test_a_form_past_its_due_date_shows_as_overdue(
    sunrise, bob, carol_record, library, bob_browser
):
    form_request = send(sunrise, carol_record, bob, ["gad7"], library, due_date=DUE)
    (item,) = submissions_of(sunrise, form_request)
    with time_machine.travel(LAST_MINUTE_OF_THE_DUE_DAY, tick=False):
        page = (
            signed_in("sunrise.localhost", bob, url="/practice/sign-in/")
            .get(f"/practice/clients/{carol_record.pk}/")
            .content.decode()
        )
        assert f'data-submission="{item.pk}" data-status="sent"' in page
    with time_machine.travel(FIRST_MINUTE_AFTER, tick=False):
        bob_browser = signed_in("sunrise.localhost", bob, url="/practice/sign-in/")
        page = bob_browser.get(f"/practice/clients/{carol_record.pk}/").content.decode()
        assert f'data-submission="{item.pk}" data-status="overdue"' in page
        assert 'data-request-status="overdue"' in page


def test_a_reminder_emails_again_but_not_twice_in_a_row(
    packet, bob_browser, carol_record, django_capture_on_commit_callbacks, sunrise
):
    url = f"/practice/forms/clients/{carol_record.pk}/requests/{packet.pk}/remind/"
    with time_machine.travel(timezone.now() + timedelta(minutes=20)):
        with django_capture_on_commit_callbacks(execute=True):
            bob_browser.post(url)
        assert len(mail.outbox) == 2 and mail.outbox[1].subject.startswith("Reminder:")
        with django_capture_on_commit_callbacks(execute=True):
            response = bob_browser.post(url, follow=True)
        assert "A reminder was just sent" in response.content.decode()
        assert len(mail.outbox) == 2
    with schema_context(sunrise.schema_name):
        assert FormRequest.objects.get(pk=packet.pk).reminder_count == 1


def test_cancelling_withdraws_open_forms_and_keeps_completed_ones(
    packet, bob_browser, carol_record, carol_browser, sunrise
):
    intake, consent, phq = submissions_of(sunrise, packet)
    answers = {f"q_phq_{n}": "0" for n in range(1, 10)}
    assert carol_browser.post(f"/forms/{phq.pk}/", answers).status_code == 302
    bob_browser.post(f"/practice/forms/clients/{carol_record.pk}/requests/{packet.pk}/cancel/")
    with schema_context(sunrise.schema_name):
        statuses = dict(Submission.objects.filter(request=packet).values_list("pk", "status"))
    assert statuses == {intake.pk: "cancelled", consent.pk: "cancelled", phq.pk: "completed"}
    assert f"/forms/{intake.pk}/" not in carol_browser.get("/").content.decode()
    assert carol_browser.get(f"/forms/{intake.pk}/").status_code == 410
    assert carol_browser.post(f"/forms/{intake.pk}/draft/", {"q_reason": "x"}).status_code == 409
    # A cancelled request sends no reminder.
    response = bob_browser.post(
        f"/practice/forms/clients/{carol_record.pk}/requests/{packet.pk}/remind/", follow=True
    )
    assert "cancelled" in response.content.decode()


def test_the_queued_email_is_skipped_if_the_request_was_cancelled_first(
    sunrise, bob, carol_record, library
):
    from tenant_apps.intake.services import cancel_request
    from tenant_apps.mail.models import EmailDelivery
    from tenant_apps.mail.tasks import deliver_email

    form_request = send(sunrise, carol_record, bob, ["gad7"], library)  # on_commit not run: queued
    with schema_context(sunrise.schema_name):
        cancel_request(form_request, actor=bob)
        delivery = EmailDelivery.objects.get(
            object_id=form_request.pk, kind="intake_forms_requested"
        )
        assert deliver_email(delivery.pk) is False
    assert mail.outbox == []


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"template": []}, "Choose at least one form"),
        ({"due_date": "2001-01-01"}, "The due date is in the past"),
        ({"template": ["999999"]}, "no longer available"),
    ],
)
def test_bad_sends_are_explained(bob_browser, carol_record, library, data, message):
    response = bob_browser.post(
        f"/practice/forms/clients/{carol_record.pk}/send/",
        {"template": ids(library, ["gad7"]), **data},
    )
    assert response.status_code == 400 and message in response.content.decode()


def test_a_client_without_a_portal_account_is_invited_first(alice_browser, sunrise, library):
    from tests.factories import ClientFactory

    with schema_context(sunrise.schema_name):
        erin = ClientFactory()
    response = alice_browser.post(
        f"/practice/forms/clients/{erin.pk}/send/", {"template": ids(library, ["gad7"])}
    )
    assert response.content.count(b"Invite this client to the Client Portal first") == 1


# Who may send, remind and cancel -----------------------------------------------------------------


def test_a_clinician_cannot_send_to_someone_elses_client(
    bob_browser, dave_record, library, alice, sunrise
):
    assert bob_browser.get(f"/practice/forms/clients/{dave_record.pk}/send/").status_code == 404
    assert (
        bob_browser.post(
            f"/practice/forms/clients/{dave_record.pk}/send/", {"template": ids(library, ["gad7"])}
        ).status_code
        == 404
    )
    form_request = send(sunrise, dave_record, alice, ["gad7"], library)
    for action in ("remind", "cancel"):
        url = f"/practice/forms/clients/{dave_record.pk}/requests/{form_request.pk}/{action}/"
        assert bob_browser.post(url).status_code == 404


def test_a_request_is_reached_only_through_its_own_client(
    packet, alice_browser, dave_record, sunrise
):
    url = f"/practice/forms/clients/{dave_record.pk}/requests/{packet.pk}/cancel/"
    assert alice_browser.post(url).status_code == 404
    with schema_context(sunrise.schema_name):
        assert FormRequest.objects.get(pk=packet.pk).cancelled_at is None


def test_another_practice_cannot_send_remind_or_cancel(packet, hana_browser, carol_record, library):
    assert hana_browser.get(f"/practice/forms/clients/{carol_record.pk}/send/").status_code == 404
    for action in ("remind", "cancel"):
        url = f"/practice/forms/clients/{carol_record.pk}/requests/{packet.pk}/{action}/"
        assert hana_browser.post(url).status_code == 404


def test_a_biller_sees_no_forms_panel_and_cannot_send(
    packet, biller_browser, carol_record, library
):
    page = biller_browser.get(f"/practice/clients/{carol_record.pk}/").content.decode()
    assert "forms-panel-heading" not in page and "Adult intake" not in page
    assert biller_browser.get(f"/practice/forms/clients/{carol_record.pk}/send/").status_code == 403
    url = f"/practice/forms/clients/{carol_record.pk}/requests/{packet.pk}/cancel/"
    assert biller_browser.post(url).status_code == 403


def test_anonymous_visitors_cannot_send(packet, carol_record, sunrise):
    browser = host_client("sunrise.localhost")
    for url in (
        f"/practice/forms/clients/{carol_record.pk}/send/",
        f"/practice/forms/clients/{carol_record.pk}/requests/{packet.pk}/remind/",
        f"/practice/forms/clients/{carol_record.pk}/requests/{packet.pk}/cancel/",
    ):
        response = browser.post(url)
        assert response.status_code == 302 and "/practice/sign-in/" in response["Location"]
