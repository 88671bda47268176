"""Delivering recorded emails: once per delivery, only in the schema the task was sent from,
and with nothing about health in the message or in the logs.

Tasks run in-process here (eagerly), started the way a worker starts them: from the public
schema, with the schema the task was sent from in its headers.
"""

import logging
import re

import pytest
from django.contrib.auth.tokens import default_token_generator
from django.utils.encoding import force_str
from django.utils.http import urlsafe_base64_decode
from django_tenants.utils import schema_context

from tenant_apps.accounts.models import User
from tenant_apps.accounts.services import STAFF_INVITATION, invite_staff_member
from tenant_apps.mail.models import EmailDelivery
from tenant_apps.mail.services import queue_email
from tenant_apps.mail.tasks import deliver_email
from tenants.models import Domain, Practice


def deliver(practice: Practice, delivery_id: int) -> bool:
    """Run the task as a worker runs a message sent from `practice`'s schema."""
    result = deliver_email.apply(args=[delivery_id], headers={"_schema_name": practice.schema_name})
    return result.get()


def invite(practice: Practice, person: User, *, actor: User) -> EmailDelivery:
    """Record `person`'s staff invitation. The test's transaction never commits, so it is not
    sent until the test runs the task."""
    with schema_context(practice.schema_name):
        invite_staff_member(person, actor=actor)
        return EmailDelivery.objects.get(recipient=person, kind=STAFF_INVITATION)


def reloaded(practice: Practice, delivery: EmailDelivery) -> EmailDelivery:
    with schema_context(practice.schema_name):
        return EmailDelivery.objects.get(pk=delivery.pk)


def test_it_sends_a_delivery_once_however_often_the_task_runs(sunrise, alice, bob, mailoutbox):
    invitation = invite(sunrise, bob, actor=alice)

    assert deliver(sunrise, invitation.pk) is True
    assert deliver(sunrise, invitation.pk) is False

    assert [message.to for message in mailoutbox] == [["bob@sunrise.test"]]
    invitation = reloaded(sunrise, invitation)
    assert invitation.sent_at is not None
    assert invitation.attempts == 1


def test_it_keeps_one_delivery_when_the_same_email_is_queued_twice(
    sunrise, bob, mailoutbox, django_capture_on_commit_callbacks
):
    # The callbacks run when the outer block ends, back on the public schema, as after a commit.
    with (
        django_capture_on_commit_callbacks(execute=True) as enqueued,
        schema_context(sunrise.schema_name),
    ):
        first = queue_email(kind=STAFF_INVITATION, key="invite-bob-once", recipient=bob)
        second = queue_email(kind=STAFF_INVITATION, key="invite-bob-once", recipient=bob)

    assert second.pk == first.pk
    assert len(enqueued) == 1
    with schema_context(sunrise.schema_name):
        assert EmailDelivery.objects.filter(key="invite-bob-once").count() == 1
    assert [message.to for message in mailoutbox] == [["bob@sunrise.test"]]


def test_it_leaves_the_delivery_unsent_when_the_email_cannot_be_built(
    sunrise, alice, bob, mailoutbox
):
    invitation = invite(sunrise, bob, actor=alice)
    # Without a primary domain there is no host to put in the link.
    primary_domain = Domain.objects.filter(tenant=sunrise, is_primary=True)
    domain_pk = primary_domain.get().pk
    primary_domain.update(is_primary=False)

    with pytest.raises(Domain.DoesNotExist):
        deliver(sunrise, invitation.pk)

    assert mailoutbox == []
    invitation = reloaded(sunrise, invitation)
    assert (invitation.sent_at, invitation.skipped_at) == (None, None)

    Domain.objects.filter(pk=domain_pk).update(is_primary=True)

    assert deliver(sunrise, invitation.pk) is True
    assert [message.to for message in mailoutbox] == [["bob@sunrise.test"]]
    assert reloaded(sunrise, invitation).sent_at is not None


def test_it_finds_nothing_when_a_delivery_id_arrives_with_another_practices_schema(
    sunrise, harbor, alice, bob, mailoutbox
):
    invitation = invite(sunrise, bob, actor=alice)
    with schema_context(harbor.schema_name):
        assert not EmailDelivery.objects.filter(pk=invitation.pk).exists()

    assert deliver(harbor, invitation.pk) is False

    assert mailoutbox == []
    assert reloaded(sunrise, invitation).sent_at is None


def test_it_sends_only_the_other_practices_own_email_when_ids_coincide(
    sunrise, harbor, alice, bob, hana, mailoutbox
):
    invitation = invite(sunrise, bob, actor=alice)
    with schema_context(harbor.schema_name):
        # Each practice numbers its deliveries itself; harbor's gets the same id on purpose.
        EmailDelivery.objects.create(
            pk=invitation.pk,
            key="invite-hana-again",
            kind=STAFF_INVITATION,
            recipient=hana,
            to_email=hana.email,
        )

    assert deliver(harbor, invitation.pk) is True

    (message,) = mailoutbox
    assert message.to == ["hana@harbor.test"]
    assert "Harbor Counseling" in message.body
    assert "http://harbor.localhost:8000/practice/welcome/" in message.body
    assert "Sunrise" not in message.body
    assert reloaded(sunrise, invitation).sent_at is None


def test_the_staff_invitation_names_the_practice_links_to_it_and_says_nothing_else(
    sunrise, alice, bob, mailoutbox
):
    invitation = invite(sunrise, bob, actor=alice)

    deliver(sunrise, invitation.pk)

    (message,) = mailoutbox
    assert message.to == ["bob@sunrise.test"]
    assert message.subject == "You're invited to Sunrise Therapy"
    link = re.search(
        r"^http://sunrise\.localhost:8000/practice/welcome/(?P<uidb64>[\w-]+)/(?P<token>[\w-]+)/$",
        message.body,
        re.MULTILINE,
    )
    assert link is not None
    # Trailing newlines are the transport's business; every line above them is asserted.
    assert message.body.rstrip("\n") == (
        "Hello Bob Clinician,\n"
        "\n"
        "You have been invited to the Sunrise Therapy workspace on Swasth for Clinicians.\n"
        "\n"
        "Choose your password and sign in here:\n"
        f"{link[0]}\n"
        "\n"
        "The link works once and for three days. If you weren't expecting this, you can ignore"
        " this email."
    )
    assert (message.alternatives, message.attachments) == ([], [])
    assert force_str(urlsafe_base64_decode(link["uidb64"])) == str(bob.pk)
    assert default_token_generator.check_token(bob, link["token"])


def test_it_logs_delivery_ids_and_never_who_the_email_is_for(
    sunrise, harbor, alice, bob, mailoutbox, caplog
):
    caplog.set_level(logging.DEBUG)
    invitation = invite(sunrise, bob, actor=alice)

    deliver(sunrise, invitation.pk)
    deliver(sunrise, invitation.pk)
    deliver(harbor, invitation.pk)

    ours = [
        record.getMessage() for record in caplog.records if record.name.startswith("tenant_apps")
    ]
    assert len(ours) == 3
    assert all(f"delivery {invitation.pk}" in line for line in ours)
    logged = "\n".join(record.getMessage() for record in caplog.records)
    (message,) = mailoutbox
    for private in ("bob@sunrise.test", "Bob Clinician", "/welcome/", message.body):
        assert private not in logged
