"""The practice's shared link: request access, idle sign-out, audit of sign-ins."""

from datetime import timedelta

import time_machine
from django.db import connection, transaction
from django.utils import timezone
from django_tenants.utils import schema_context

from tenant_apps.audit.models import AuditEvent
from tenant_apps.clients.models import Client
from tests.conftest import (
    host_client,
    race_behind_an_open_transaction,
    sign_in_where_sent,
)
from tests.personas import PASSWORD


def test_a_new_client_requests_access_and_becomes_a_prospective_record(sunrise):
    browser = host_client("sunrise.localhost")
    response = browser.post(
        "/request-access/",
        {"first_name": "Nia", "last_name": "Newman", "email": "Nia@Client.test", "phone": ""},
        follow=True,
    )
    assert b"The practice will review your request" in response.content
    with schema_context(sunrise.schema_name):
        nia = Client.objects.get(email="nia@client.test")
        assert nia.status == Client.Status.PROSPECTIVE and nia.user is None


def test_asking_again_with_a_known_address_answers_the_same_and_creates_nothing(
    sunrise, carol_record
):
    response = host_client("sunrise.localhost").post(
        "/request-access/",
        {"first_name": "X", "last_name": "Y", "email": carol_record.email, "phone": ""},
        follow=True,
    )
    assert b"The practice will review your request" in response.content
    with schema_context(sunrise.schema_name):
        assert Client.objects.filter(email=carol_record.email).count() == 1


def test_the_same_request_sent_twice_at_once_adds_one_record_and_answers_both(
    committed_practice, django_db_blocker
):
    """A double click: the second request looks before the first commits, then finds the
    address taken when it inserts. It answers as for a known address, not with an error."""
    schema, email = committed_practice.schema_name, "twice@client.test"

    def hold() -> None:
        Client.objects.create(legal_first_name="Tess", legal_last_name="Twice", email=email)

    def contend() -> int:
        response = host_client("committed-care.localhost").post(
            "/request-access/",
            {"first_name": "Tess", "last_name": "Twice", "email": email, "phone": ""},
        )
        return response.status_code

    with django_db_blocker.unblock():
        _, answer = race_behind_an_open_transaction(schema, hold, contend)
        with schema_context(schema):
            assert Client.objects.filter(email=email).count() == 1
            again = AuditEvent.objects.filter(action="client.access_requested_again")
            assert again.count() == 1
        connection.close()

    assert answer == 302


def test_a_request_at_harbor_lands_at_harbor_only(sunrise, harbor):
    host_client("harbor.localhost").post(
        "/request-access/", {"first_name": "H", "last_name": "Only", "email": "h@client.test"}
    )
    with schema_context(harbor.schema_name):
        assert Client.objects.filter(email="h@client.test").exists()
    with schema_context(sunrise.schema_name):
        assert not Client.objects.filter(email="h@client.test").exists()


def test_clients_are_signed_out_after_the_practice_idle_limit(carol_browser, sunrise):
    with time_machine.travel(timezone.now() + timedelta(minutes=29)):
        assert carol_browser.get("/").status_code == 200
    with time_machine.travel(timezone.now() + timedelta(minutes=29 + 31)):
        response = carol_browser.get("/")
        assert response.status_code == 302
        assert b"without activity" in carol_browser.get("/").content


def test_an_idle_client_signs_in_again_and_is_back_on_the_page_she_opened(
    carol_browser, carol, carol_record, sunrise
):
    assert carol_browser.get("/billing/?tab=paid").status_code == 200
    with time_machine.travel(timezone.now() + timedelta(minutes=31)):
        sent = carol_browser.get("/billing/?tab=paid")
        assert sent["Location"] == "/sign-in/?next=/billing/%3Ftab%3Dpaid"
        assert b"without activity" in carol_browser.get(sent["Location"]).content

        back = sign_in_where_sent(carol_browser, sent, carol)

    assert back.status_code == 200
    assert back.wsgi_request.get_full_path() == "/billing/?tab=paid"


def test_the_idle_limit_is_the_practices_choice(carol_browser, sunrise):
    from tenants.models import Practice

    Practice.objects.filter(pk=sunrise.pk).update(client_idle_timeout_minutes=120)
    from tenants.hosts import forget_practice

    forget_practice(sunrise.pk)
    carol_browser.get("/")
    with time_machine.travel(timezone.now() + timedelta(minutes=90)):
        assert carol_browser.get("/").status_code == 200
    assert b'data-idle-seconds="7200"' in carol_browser.get("/").content


def test_sign_ins_and_failures_are_audited(carol, sunrise):
    browser = host_client("sunrise.localhost")
    browser.post("/sign-in/", {"username": carol.email, "password": "wrong-one-here"})
    browser.post("/sign-in/", {"username": carol.email, "password": PASSWORD})
    with schema_context(sunrise.schema_name):
        actions = list(
            AuditEvent.objects.filter(object_id=str(carol.pk)).values_list("action", flat=True)
        )
    assert "account.sign_in_failed" in actions and "account.signed_in" in actions


def test_staff_unlock_a_locked_out_client(carol, carol_record, alice_browser):
    browser = host_client("sunrise.localhost")
    for _ in range(5):
        browser.post("/sign-in/", {"username": carol.email, "password": "nope-nope"})
    assert (
        browser.post("/sign-in/", {"username": carol.email, "password": PASSWORD}).status_code
        == 429
    )
    page = alice_browser.get(f"/practice/clients/{carol_record.pk}/").content.decode()
    assert "Sign-in is locked" in page
    alice_browser.post(f"/practice/clients/{carol_record.pk}/unlock/")
    assert (
        browser.post("/sign-in/", {"username": carol.email, "password": PASSWORD}).status_code
        == 302
    )


def test_the_owner_browses_and_filters_the_audit_trail(alice_browser, carol_record):
    alice_browser.get(f"/practice/clients/{carol_record.pk}/")
    content = alice_browser.get("/practice/audit/", {"action": "client."}).content.decode()
    assert "client.viewed" in content and "account.signed_in" not in content


def test_only_the_owner_sees_the_audit_trail(bob_browser, carol_browser, hana_browser):
    assert bob_browser.get("/practice/audit/").status_code == 403
    assert carol_browser.get("/practice/audit/").status_code == 302
    assert host_client("sunrise.localhost").get("/practice/audit/").status_code == 302
    harbor_trail = hana_browser.get("/practice/audit/").content.decode()
    assert "Sunrise" not in harbor_trail


def test_nothing_in_the_app_can_edit_or_delete_audit_events(sunrise, alice_browser):
    import pytest
    from django.db import DatabaseError

    alice_browser.get("/practice/")
    with schema_context(sunrise.schema_name):
        event = AuditEvent.objects.first()
        with pytest.raises(ValueError):
            event.save()
        with pytest.raises(DatabaseError), transaction.atomic():
            AuditEvent.objects.filter(pk=event.pk).update(action="tampered")
        with pytest.raises(DatabaseError), transaction.atomic():
            AuditEvent.objects.filter(pk=event.pk).delete()


def test_a_biller_cannot_see_the_audit_trail_or_the_team(biller_browser):
    assert biller_browser.get("/practice/audit/").status_code == 403
    assert biller_browser.get("/practice/settings/team/").status_code == 403


def test_an_invitation_link_from_sunrise_does_nothing_at_harbor(
    erin_record, sunrise, alice, django_capture_on_commit_callbacks
):
    import re

    from django.core import mail

    from tenant_apps.clients.services import invite_client

    with django_capture_on_commit_callbacks(execute=True), schema_context(sunrise.schema_name):
        invite_client(erin_record, actor=alice)
    path = re.search(r":8000(/welcome/\S+/)", mail.outbox[-1].body).group(1)
    harbor = host_client("harbor.localhost")
    assert harbor.get(path).status_code == 410
    password = "river-stone-lantern-42"
    response = harbor.post(path, {"new_password1": password, "new_password2": password})
    assert response.status_code == 410
    assert host_client("sunrise.localhost").get(path).status_code == 200
