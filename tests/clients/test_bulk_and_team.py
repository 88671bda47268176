import html
import re

from django.core import mail
from django.core.exceptions import ValidationError
from django.db import connection
from django_tenants.utils import schema_context

from tenant_apps.accounts.models import Role, User
from tenant_apps.accounts.selectors import invited_staff_member
from tenant_apps.accounts.services import add_staff_member
from tenant_apps.clients.models import Client, PortalInvitation
from tests.conftest import host_client, race_behind_an_open_transaction
from tests.factories import ClientFactory


def test_bulk_invite_sends_one_invitation_each_and_reports_skips(
    alice_browser, sunrise, django_capture_on_commit_callbacks
):
    with schema_context(sunrise.schema_name):
        with_email = ClientFactory.create_batch(3)
        without_email = ClientFactory(email="")
    ids = [c.pk for c in [*with_email, without_email]]
    with django_capture_on_commit_callbacks(execute=True):
        response = alice_browser.post("/practice/clients/", {"client": ids}, follow=True)
    assert b"Invitations sent: 3. Skipped: 1." in response.content
    assert sorted(m.to[0] for m in mail.outbox) == sorted(c.email for c in with_email)
    with schema_context(sunrise.schema_name):
        assert PortalInvitation.objects.count() == 3


def test_bulk_invite_ignores_ids_the_clinician_cannot_see(
    bob_browser, sunrise, bob, django_capture_on_commit_callbacks
):
    with schema_context(sunrise.schema_name):
        own = ClientFactory(assigned_clinician=bob)
        other = ClientFactory()
    with django_capture_on_commit_callbacks(execute=True):
        bob_browser.post("/practice/clients/", {"client": [own.pk, other.pk, "x"]})
    assert [m.to for m in mail.outbox] == [[own.email]]


def test_bulk_invite_at_harbor_cannot_touch_sunrise_clients(
    hana_browser, sunrise, django_capture_on_commit_callbacks
):
    with schema_context(sunrise.schema_name):
        target = ClientFactory()
    with django_capture_on_commit_callbacks(execute=True):
        hana_browser.post("/practice/clients/", {"client": [target.pk]})
    assert mail.outbox == []
    with schema_context(sunrise.schema_name):
        assert not Client.objects.get(pk=target.pk).invitations.exists()


def test_the_owner_invites_a_team_member(
    alice_browser, sunrise, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = alice_browser.post(
            "/practice/settings/team/",
            {"full_name": "Gus Grant", "email": "Gus@Sunrise.test", "role": Role.BILLER},
        )
    assert response.status_code == 302
    with schema_context(sunrise.schema_name):
        gus = User.objects.get(email="gus@sunrise.test")
    assert gus.role == Role.BILLER and not gus.has_usable_password()
    assert "/practice/welcome/" in mail.outbox[0].body


def test_a_used_team_invitation_says_so_and_leads_to_sign_in_and_a_password_reset(
    alice_browser, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        alice_browser.post(
            "/practice/settings/team/",
            {"full_name": "Gus Grant", "email": "gus@sunrise.test", "role": Role.BILLER},
        )
    link = re.search(r"http://sunrise\.localhost:8000(/practice/welcome/\S+/)", mail.outbox[0].body)
    gus = host_client("sunrise.localhost")
    form_url = gus.get(link.group(1), follow=True).redirect_chain[-1][0]
    password = "lantern-harbour-quiet-2026"
    accepted = gus.post(form_url, {"new_password1": password, "new_password2": password})
    assert accepted.status_code == 302

    again = host_client("sunrise.localhost").get(link.group(1), follow=True)

    page = html.unescape(again.content.decode())
    assert "<title>This invitation link can't be used — Sunrise Therapy</title>" in page
    assert "The invitation was already accepted" in page and "Password reset" not in page
    assert 'href="/practice/sign-in/"' in page and 'href="/practice/password-reset/"' in page


def test_an_invitation_sent_twice_adds_and_emails_the_person_once(
    alice_browser, sunrise, django_capture_on_commit_callbacks
):
    gus = {"full_name": "Gus Grant", "email": "gus@sunrise.test", "role": Role.BILLER}
    with django_capture_on_commit_callbacks(execute=True):
        first = alice_browser.post("/practice/settings/team/", gus)
        second = alice_browser.post("/practice/settings/team/", gus, follow=True)

    assert first.status_code == 302
    page = second.content.decode()
    assert "Invitation sent." in page and "already uses this email" not in page
    assert len(mail.outbox) == 1
    with schema_context(sunrise.schema_name):
        assert User.objects.filter(email="gus@sunrise.test").count() == 1
    # Another role for the same address is a different request, and refused with the reason.
    refused = alice_browser.post("/practice/settings/team/", {**gus, "role": Role.OWNER})
    assert b"already uses this email address" in refused.content


def test_an_existing_address_is_refused_with_a_reason(alice_browser, bob):
    response = alice_browser.post(
        "/practice/settings/team/", {"full_name": "Bob", "email": bob.email, "role": Role.CLINICIAN}
    )
    assert b"already uses this email address" in response.content


def test_only_the_owner_manages_the_team(bob_browser, carol_browser, hana_browser, bob):
    assert bob_browser.get("/practice/settings/team/").status_code == 403
    assert carol_browser.get("/practice/settings/team/").status_code == 302
    assert (
        hana_browser.post("/practice/settings/team/", {"staff": bob.pk, "allowed": "1"}).status_code
        == 404
    )


def test_an_invitation_sent_twice_at_once_is_refused_by_the_address_not_a_crash(
    committed_practice, django_db_blocker
):
    """Two real connections: the second request checks the address before the first
    commits, then meets it in the unique index; it gets the form's reason, and the team
    view then finds the person the first one invited (see the test above)."""
    schema, email = committed_practice.schema_name, "rae@committed.test"

    def hold() -> None:
        User.objects.create_user(email, full_name="Rae Race", role=Role.CLINICIAN)

    def contend() -> User:
        owner = User.objects.filter(role=Role.OWNER).first()
        return add_staff_member(actor=owner, full_name="Rae Race", email=email, role="clinician")

    with django_db_blocker.unblock():
        _, refused = race_behind_an_open_transaction(schema, hold, contend)
        with schema_context(schema):
            found = invited_staff_member(full_name="Rae Race", email=email, role="clinician")
            assert User.objects.filter(email=email).count() == 1
        connection.close()

    assert isinstance(refused, ValidationError)
    assert refused.messages == ["Someone at this practice already uses this email address."]
    assert found is not None
