"""Portal invitations: single use, 7-day expiry, superseded on resend, revocable, and safe
from email scanners that pre-open links."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.core.exceptions import ValidationError
from django.utils import timezone
from django_tenants.utils import schema_context

from tenant_apps.clients.models import Client, PortalInvitation
from tenant_apps.clients.services import invite_client
from tests.conftest import host_client

NEW_PASSWORD = "river-stone-lantern-42"


@pytest.fixture
def send_invite(sunrise, alice, django_capture_on_commit_callbacks):
    def send(client_record):
        with django_capture_on_commit_callbacks(execute=True), schema_context(sunrise.schema_name):
            invitation = invite_client(Client.objects.get(pk=client_record.pk), actor=alice)
        link = re.search(r"http://sunrise\.localhost:8000(/welcome/\S+/)", mail.outbox[-1].body)
        assert link, mail.outbox[-1].body
        return invitation, link.group(1)

    return send


def _accept(path, browser=None):
    browser = browser or host_client("sunrise.localhost")
    return browser.post(path, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})


def test_the_invitation_email_names_the_practice_links_and_says_nothing_else(
    erin_record, send_invite
):
    _, path = send_invite(erin_record)
    message = mail.outbox[-1]
    assert message.to == ["erin@client.test"]
    assert message.subject == "Sunrise Therapy invites you to its Client Portal"
    assert message.body == (
        "Hello,\n\n"
        "Sunrise Therapy invites you to its secure Client Portal, where you can fill in forms, "
        "see documents and bills, and manage appointments.\n\n"
        "To set your password and sign in, open this link:\n"
        f"http://sunrise.localhost:8000{path}\n\n"
        "The link works once and expires in 7 days. If you weren't expecting this, you can "
        "ignore this email.\n\n"
        "Sunrise Therapy\n"
    )


def test_only_a_hash_of_the_token_is_stored(erin_record, send_invite, sunrise):
    invitation, path = send_invite(erin_record)
    raw = path.split("/")[2]
    with schema_context(sunrise.schema_name):
        invitation.refresh_from_db()
    assert invitation.token_hash and raw not in invitation.token_hash


def test_opening_the_link_shows_a_form_and_uses_nothing(erin_record, send_invite, sunrise):
    _, path = send_invite(erin_record)
    for _ in range(3):  # a scanner, a preview, the person
        response = host_client("sunrise.localhost").get(path)
        assert response.status_code == 200
        assert b"Choose a password for" in response.content
    assert _accept(path).status_code == 302


def test_accepting_sets_the_password_signs_in_and_lands_on_the_home(erin_record, send_invite):
    _, path = send_invite(erin_record)
    browser = host_client("sunrise.localhost")
    response = _accept(path, browser)
    assert response["Location"] == "/"
    assert b"Hello, Erin" in browser.get("/").content


def test_the_link_works_once(erin_record, send_invite):
    _, path = send_invite(erin_record)
    assert _accept(path).status_code == 302
    replay = _accept(path)
    assert replay.status_code == 410
    assert b"can't be used" in replay.content


def test_a_used_link_says_so_and_leads_to_sign_in_and_a_password_reset(erin_record, send_invite):
    _, path = send_invite(erin_record)
    _accept(path)

    page = host_client("sunrise.localhost").get(path)

    content = page.content.decode()
    assert page.status_code == 410
    assert "<title>This invitation link can't be used — Sunrise Therapy</title>" in content
    assert "was already accepted" in content and "Password reset" not in content
    assert 'href="/sign-in/"' in content and 'href="/password-reset/"' in content


def test_the_link_expires_after_seven_days(erin_record, send_invite):
    _, path = send_invite(erin_record)
    with time_machine.travel(timezone.now() + timedelta(days=7, seconds=1)):
        assert host_client("sunrise.localhost").get(path).status_code == 410
        assert _accept(path).status_code == 410
    with time_machine.travel(timezone.now() + timedelta(days=6, hours=23)):
        assert _accept(path).status_code == 302


def test_a_new_invitation_supersedes_the_old_link(erin_record, send_invite):
    _, first = send_invite(erin_record)
    with time_machine.travel(timezone.now() + timedelta(minutes=2)):
        _, second = send_invite(erin_record)
        assert first != second
        assert _accept(first).status_code == 410
        assert _accept(second).status_code == 302


def test_resend_waits_for_a_short_cooldown(erin_record, send_invite, sunrise, alice):
    send_invite(erin_record)
    with schema_context(sunrise.schema_name), pytest.raises(ValidationError, match="resend in"):
        invite_client(Client.objects.get(pk=erin_record.pk), actor=alice)


def test_a_revoked_invitation_no_longer_works(erin_record, send_invite, alice_browser):
    _, path = send_invite(erin_record)
    alice_browser.post(f"/practice/clients/{erin_record.pk}/revoke/")
    assert _accept(path).status_code == 410
    page = alice_browser.get(f"/practice/clients/{erin_record.pk}/").content.decode()
    assert 'data-portal-status="revoked"' in page


def test_a_weak_password_is_refused_with_a_reason_and_the_link_survives(erin_record, send_invite):
    _, path = send_invite(erin_record)
    response = host_client("sunrise.localhost").post(
        path, {"new_password1": "password123", "new_password2": "password123"}
    )
    assert response.status_code == 200
    assert b"too short" in response.content or b"too common" in response.content
    assert _accept(path).status_code == 302


def test_the_email_address_matches_whatever_its_case(sunrise, alice, send_invite, in_sunrise):
    record = Client.objects.create(
        legal_first_name="Gail", legal_last_name="Case", email="  Gail.Case@Client.TEST "
    )
    assert record.email == "gail.case@client.test"
    _, path = send_invite(record)
    _accept(path)
    response = host_client("sunrise.localhost").post(
        "/sign-in/", {"username": "GAIL.CASE@client.test", "password": NEW_PASSWORD}
    )
    assert response.status_code == 302


def test_the_client_page_shows_each_portal_status(erin_record, send_invite, alice_browser):
    url = f"/practice/clients/{erin_record.pk}/"
    assert 'data-portal-status="not_invited"' in alice_browser.get(url).content.decode()
    _, path = send_invite(erin_record)
    page = alice_browser.get(url).content.decode()
    assert 'data-portal-status="invited"' in page and "expires" in page
    _accept(path)
    assert 'data-portal-status="active"' in alice_browser.get(url).content.decode()


def test_an_invitation_revoked_before_sending_sends_nothing(
    erin_record, sunrise, alice, django_capture_on_commit_callbacks
):
    from tenant_apps.clients.services import revoke_invitation
    from tenant_apps.mail.models import EmailDelivery
    from tenant_apps.mail.tasks import deliver_email

    with schema_context(sunrise.schema_name):
        invitation = invite_client(erin_record, actor=alice)  # not committed: nothing sent
        revoke_invitation(erin_record, actor=alice)
        delivery = EmailDelivery.objects.get(object_id=invitation.pk)
        assert (
            deliver_email.apply(
                args=[delivery.pk], headers={"_schema_name": sunrise.schema_name}
            ).get()
            is False
        )
        delivery.refresh_from_db()
        assert delivery.skipped_at is not None and delivery.sent_at is None
    assert mail.outbox == []


def test_inviting_needs_an_email_address(sunrise, alice, in_sunrise):
    record = Client.objects.create(legal_first_name="No", legal_last_name="Email")
    with pytest.raises(ValidationError, match="Add an email address"):
        invite_client(record, actor=alice)
    assert not PortalInvitation.objects.filter(client=record).exists()
