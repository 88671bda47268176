"""Portal invitations queued in batches for two practices go through Redis to a real Celery
worker: each lands in its own practice's schema and each client gets exactly one email, also
when the worker is killed in the middle of the batch and another one finishes it.

Both batches are committed and queued before any worker reads the queue. The worker writes
emails with tests/mail_backends.py: Django's file backend with one file per message, able to
hold a chosen message so that a kill lands at a moment the test picked, not one it hoped for.
"""

import re
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path

import pytest
import redis
from django.db import transaction
from django.utils import timezone
from django_tenants.utils import schema_context

from config.celery import app
from shared_apps.plans.models import Plan
from tenant_apps.accounts.models import Role, User
from tenant_apps.clients.models import Client, PortalInvitation, hash_token
from tenant_apps.clients.services import CLIENT_INVITATION, invite_client
from tenant_apps.mail.models import EmailDelivery
from tenants.models import Practice
from tenants.schemas import connection
from tests.practices import drop_practice, provision_test_practice
from tests.worker import (
    Worker,
    _forget_queue,
    restore_unacknowledged,
    start_worker,
    tasks_sent_to,
    wait_until,
)

pytestmark = pytest.mark.worker

CLIENTS_PER_PRACTICE = 25
FILE_PER_MESSAGE = {"EMAIL_BACKEND": "tests.mail_backends.FilePerMessageBackend"}
ORIGINS = {
    "Batch East Therapy": "http://batch-east.localhost:8000",
    "Batch West Counselling": "http://batch-west.localhost:8000",
}
WELCOME_LINK = re.compile(r"^(?P<origin>http://[^/\s]+)/welcome/(?P<token>[\w-]+)/$", re.MULTILINE)

Batches = dict[Practice, list[str]]


@pytest.fixture(scope="module")
def east_and_west(
    django_db_setup: None, django_db_blocker: pytest.FixtureRequest
) -> Iterator[tuple[Practice, Practice]]:
    """Two committed practices on different plans and in different zones. Their owners'
    invitations are sent in this process, before any worker exists."""
    with django_db_blocker.unblock():  # type: ignore[attr-defined]
        made: list[Practice] = []
        try:
            made.append(
                provision_test_practice(
                    "Batch East Therapy", "batch-east", Plan.PROFESSIONAL, "America/New_York", ()
                )
            )
            made.append(
                provision_test_practice(
                    "Batch West Counselling", "batch-west", Plan.STARTER, "Europe/London", ()
                )
            )
            yield made[0], made[1]
        finally:
            connection.set_schema_to_public()
            for practice in made:
                drop_practice(practice)


@dataclass
class Queued:
    queue: str
    batches: Batches


@pytest.fixture
def queued(
    request: pytest.FixtureRequest,
    east_and_west: tuple[Practice, Practice],
    django_db_blocker: pytest.FixtureRequest,
) -> Iterator[Queued]:
    """A batch of invitations per practice (`CLIENTS_PER_PRACTICE` each unless the test
    parametrizes this fixture), committed and waiting on a queue that no worker reads yet.

    Tests ask for this before `db`, so it commits before their transaction begins: the worker
    sees these rows, and the tests only read what the worker commits.
    """
    count = getattr(request, "param", CLIENTS_PER_PRACTICE)
    label = uuid.uuid4().hex[:8]
    queue = f"test-worker-{uuid.uuid4().hex[:12]}"
    try:
        with django_db_blocker.unblock(), tasks_sent_to(queue):  # type: ignore[attr-defined]
            batches = {
                practice: queue_invitation_batch(practice, label=label, count=count)
                for practice in east_and_west
            }
        yield Queued(queue=queue, batches=batches)
    finally:
        _forget_queue(queue)


def queue_invitation_batch(practice: Practice, *, label: str, count: int) -> list[str]:
    """Add `count` clients to the practice and invite them all in one transaction, as the
    owner; their deliveries are enqueued when it commits. Returns their addresses."""
    assert connection.get_autocommit(), "the batch must commit for a worker to see it"
    addresses = [f"{label}-{n:02}@{practice.slug}.client.test" for n in range(count)]
    with schema_context(practice.schema_name), transaction.atomic():
        owner = User.objects.get(role=Role.OWNER)
        for n, address in enumerate(addresses):
            client = Client.objects.create(
                legal_first_name="Client", legal_last_name=f"{label} {n:02}", email=address
            )
            invite_client(client, actor=owner)
    return addresses


def sent_invitations(practice: Practice, batch: list[str]) -> int:
    with schema_context(practice.schema_name):
        return EmailDelivery.objects.filter(
            kind=CLIENT_INVITATION, to_email__in=batch, sent_at__isnull=False
        ).count()


def all_sent(batches: Batches) -> bool:
    return all(
        sent_invitations(practice, batch) == len(batch) for practice, batch in batches.items()
    )


def drained(worker: Worker) -> bool:
    """Whether the broker holds nothing for the worker: its queue is empty and no message
    it took is still unacknowledged (a task is acknowledged after it returns)."""
    broker = redis.Redis.from_url(app.conf.broker_url)
    try:
        waiting = broker.llen(worker.queue)
        taken = sum(worker.queue.encode() in payload for payload in broker.hvals("unacked"))
        return waiting == 0 and taken == 0
    finally:
        broker.close()


def finish_batches(worker: Worker, batches: Batches) -> list[EmailMessage]:
    """Wait until every invitation is sent and committed and the worker has nothing left to
    do; then return every email in the outbox."""
    worker.wait_for_emails(sum(map(len, batches.values())))
    wait_until(lambda: all_sent(batches), what="every invitation to be marked sent")
    wait_until(lambda: worker._alive() and drained(worker), what="the worker to drain its queue")
    return worker.emails()


def assert_each_client_was_invited_once_by_their_own_practice(
    emails: list[EmailMessage], batches: Batches
) -> None:
    practice_of = {address: practice for practice, batch in batches.items() for address in batch}
    assert sum(map(len, batches.values())) == len(practice_of), "batches must be disjoint"

    # Exactly one email per client: none missing, none twice, nobody else.
    assert Counter(message["To"] for message in emails) == Counter(practice_of.keys())

    for message in emails:
        practice = practice_of[message["To"]]
        others = [other for other in batches if other != practice]
        body = message.get_content()
        link = WELCOME_LINK.search(body)
        assert link is not None, body
        assert message["Subject"] == f"{practice.name} invites you to its Client Portal"
        assert link["origin"] == ORIGINS[practice.name]
        assert practice.name in body
        assert not any(other.name in body for other in others), body

        # The token in the link is this client's invitation, in this practice's schema only.
        token_hash = hash_token(link["token"])
        with schema_context(practice.schema_name):
            invitation = PortalInvitation.objects.select_related("client").get(
                token_hash=token_hash
            )
            assert invitation.client.email == message["To"]
            assert invitation.is_usable_at(timezone.now())
        for other in others:
            with schema_context(other.schema_name):
                assert not PortalInvitation.objects.filter(token_hash=token_hash).exists()

    for practice, batch in batches.items():
        with schema_context(practice.schema_name):
            invitations = PortalInvitation.objects.filter(client__email__in=batch)
            assert invitations.count() == len(batch)
            assert not invitations.filter(token_hash__isnull=True).exists()
            deliveries = EmailDelivery.objects.filter(kind=CLIENT_INVITATION, to_email__in=batch)
            assert deliveries.count() == len(batch)
            assert not deliveries.filter(sent_at__isnull=True).exists()


def test_a_batch_per_practice_lands_in_each_schema_and_invites_each_client_once(
    queued: Queued, db: None, tmp_path: Path
):
    batches = queued.batches
    worker = start_worker(tmp_path, queue=queued.queue, environment=FILE_PER_MESSAGE)
    try:
        emails = finish_batches(worker, batches)

        assert len(emails) == 2 * CLIENTS_PER_PRACTICE
        assert_each_client_was_invited_once_by_their_own_practice(emails, batches)
        log = worker.log()
        for practice in batches:
            assert f"[{practice.schema_name}] tenant_apps.mail.tasks: Sent email delivery" in log
        assert not any(address in log for batch in batches.values() for address in batch)
    finally:
        worker.stop()


def start_held_worker(directory: Path, queue: str, *, hold: str) -> tuple[Worker, Path]:
    """A worker that holds one email (tests/mail_backends.py) until it is killed; also
    returns the file that appears once it holds it."""
    directory.mkdir()
    holding = directory / "holding"
    worker = start_worker(
        directory,
        queue=queue,
        environment={
            **FILE_PER_MESSAGE,
            "SWASTH_TEST_EMAIL_HOLD": hold,
            "SWASTH_TEST_EMAIL_HOLD_MARKER": str(holding),
        },
    )
    return worker, holding


def take_over(directory: Path, dead: Worker) -> Worker:
    """Hand back what the dead worker had taken, then start another on its queue and outbox."""
    # Prefetch multiplier 1 and one process: the dead worker held exactly the message it died
    # on. Without this the broker would hand it back after the visibility timeout (an hour).
    assert restore_unacknowledged() == 1
    directory.mkdir()
    return start_worker(
        directory, queue=dead.queue, outbox=dead.outbox, environment=FILE_PER_MESSAGE
    )


def test_a_worker_killed_while_sending_leaves_nothing_half_done_for_the_next_one(
    queued: Queued, db: None, tmp_path: Path
):
    batches = queued.batches
    # In the second practice's batch: the dying worker had already moved between schemas.
    held = CLIENTS_PER_PRACTICE + 8
    first, holding = start_held_worker(tmp_path / "first", queued.queue, hold=f"before:{held}")
    second: Worker | None = None
    try:
        wait_until(lambda: first._alive() and holding.exists(), what="the held email")
        first.kill()

        # The task it died in had issued a token and was sending: all of that rolled back.
        # What the dead worker committed is exactly the emails it wrote.
        assert len(first.emails()) == held - 1
        assert sum(sent_invitations(*batch) for batch in batches.items()) == held - 1
        for practice, batch in batches.items():
            with schema_context(practice.schema_name):
                sent = EmailDelivery.objects.filter(to_email__in=batch, sent_at__isnull=False)
                with_token = PortalInvitation.objects.filter(
                    client__email__in=batch, token_hash__isnull=False
                )
                assert set(sent.values_list("object_id", flat=True)) == set(
                    with_token.values_list("pk", flat=True)
                )

        second = take_over(tmp_path / "second", first)
        emails = finish_batches(second, batches)

        assert len(emails) == 2 * CLIENTS_PER_PRACTICE
        assert_each_client_was_invited_once_by_their_own_practice(emails, batches)
    finally:
        first.stop()
        if second is not None:
            second.stop()


def links_that_work(emails: list[EmailMessage], practice: Practice) -> list[bool]:
    with schema_context(practice.schema_name):
        return [
            PortalInvitation.objects.filter(token_hash=hash_token(link["token"])).exists()
            for message in emails
            if (link := WELCOME_LINK.search(message.get_content()))
        ]


@pytest.mark.parametrize("queued", [3], indirect=True)
def test_a_worker_killed_after_the_message_left_resends_the_same_working_link(
    queued: Queued, db: None, tmp_path: Path
):
    """At-least-once: a worker killed after the mail server took a message but before the
    delivery row was committed sends that one invitation again. No ordering can close that
    window with a mail server that cannot deduplicate; what the design guarantees is that the
    copy is the same message (same Message-ID) with the same working link."""
    batches = queued.batches
    held = 3
    first, holding = start_held_worker(tmp_path / "first", queued.queue, hold=f"after:{held}")
    second: Worker | None = None
    try:
        wait_until(lambda: first._alive() and holding.exists(), what="the held email")
        first.kill()
        assert len(first.emails()) == held

        second = take_over(tmp_path / "second", first)
        takeover = second
        wait_until(lambda: all_sent(batches), what="every invitation to be marked sent")
        wait_until(lambda: takeover._alive() and drained(takeover), what="the worker to drain")

        emails = second.emails()
        twice = []
        for practice, batch in batches.items():
            for address in batch:
                to_them = [message for message in emails if message["To"] == address]
                assert 1 <= len(to_them) <= 2, address
                if len(to_them) == 2:
                    twice.append(address)
                    assert to_them[0]["Message-ID"] == to_them[1]["Message-ID"]
                    assert to_them[0].get_content() == to_them[1].get_content()
                    assert links_that_work(to_them, practice) == [True, True]
        assert len(twice) == 1, twice
    finally:
        first.stop()
        if second is not None:
            second.stop()
