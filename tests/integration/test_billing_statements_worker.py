"""Monthly statements for two practices go through Redis to a real Celery worker: beat's
dispatcher fans out per practice schema, each practice makes its statements and the worker
emails each client once. Running the same month again sends nothing twice."""

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import time_machine
from django.db import connection, connections
from django_tenants.utils import schema_context

from shared_apps.plans.models import Plan
from tenant_apps.accounts.models import Role, User
from tenant_apps.billing.models import BillingDocument, BillingProfile, BillingRun
from tenant_apps.billing.tasks import dispatch_monthly_statements, run_statements
from tenant_apps.clients.models import Client
from tenants.models import Practice
from tests.billing.conftest import issue
from tests.practices import drop_practice, provision_test_practice
from tests.worker import Worker, wait_until

pytestmark = pytest.mark.worker

# Dec 5, 12:00 UTC: the statement day (the 5th) has begun in Chicago and in Tokyo.
STATEMENT_MOMENT = "2026-12-05T12:00:00+00:00"
NOVEMBER = datetime(2026, 11, 10, 15, tzinfo=UTC)


def _set_up(practice: Practice, clients: list[tuple[str, bool]], fee: int) -> None:
    with schema_context(practice.schema_name):
        BillingProfile.objects.update_or_create(
            pk=1, defaults={"monthly_statements_enabled": True, "statement_day": 5}
        )
        for email, has_portal in clients:
            user = (
                User.objects.create_user(email, "x" * 16, full_name="Client", role=Role.CLIENT)
                if has_portal
                else None
            )
            client = Client.objects.create(
                legal_first_name="Pat", legal_last_name=email.split("@")[0], email=email, user=user
            )
            with time_machine.travel(NOVEMBER, tick=False):
                issue(client, fee=fee)


@pytest.fixture(scope="module")
def two_practices(worker: Worker, django_db_blocker) -> Iterator[list[Practice]]:
    with django_db_blocker.unblock():
        made = []
        try:
            made.append(
                provision_test_practice(
                    "Birch Therapy", "birch", Plan.STARTER, "America/Chicago", ()
                )
            )
            made.append(
                provision_test_practice("Cedar Clinic", "cedar", Plan.STARTER, "Asia/Tokyo", ())
            )
            Practice.objects.filter(pk=made[1].pk).update(currency="JPY")
            _set_up(made[0], [("ana@birch.test", True), ("ben@birch.test", False)], 15000)
            _set_up(made[1], [("kei@cedar.test", True), ("mio@cedar.test", True)], 12000)
            yield made
        finally:
            connection.set_schema_to_public()
            for practice in made:
                drop_practice(practice)


def _statement_emails(worker: Worker) -> list:
    return [m for m in worker.emails() if "billing document" in m["Subject"]]


def _finished_runs(practice: Practice, count: int) -> list[BillingRun]:
    def done():
        with schema_context(practice.schema_name):
            finished = list(BillingRun.objects.filter(status="finished").order_by("id"))
        return finished if len(finished) >= count else None

    return wait_until(done, what=f"{count} finished run(s) in {practice.schema_name}")


def _committed_run(practice: Practice, start, end) -> int:
    """A queued run committed through a second connection (the test's own is inside the
    test transaction, which the worker cannot see), as a person's "send" button makes it."""
    other = connections.create_connection("default")
    try:
        other.set_schema(practice.schema_name)
        with other.cursor() as cursor:
            cursor.execute(
                "INSERT INTO billing_billingrun (period_start, period_end, automatic, status,"
                " total, processed, sent, skipped, failed, report, created_at)"
                " VALUES (%s, %s, false, 'queued', 0, 0, 0, 0, 0, '[]', now()) RETURNING id",
                [start, end],
            )
            (run_id,) = cursor.fetchone()
        other.commit()
    finally:
        other.close()
    return run_id


def test_the_worker_sends_each_practices_statements_once(
    db: None, worker: Worker, two_practices: list[Practice]
):
    _send_twice(worker, *two_practices)


def _send_twice(worker: Worker, birch: Practice, cedar: Practice) -> None:
    dispatch_monthly_statements.apply_async(kwargs={"now_iso": STATEMENT_MOMENT})

    (birch_run,) = _finished_runs(birch, 1)
    (cedar_run,) = _finished_runs(cedar, 1)
    messages = wait_until(
        lambda: len(_statement_emails(worker)) >= 3 and _statement_emails(worker),
        what="three statement emails",
    )
    assert sorted(m["To"] for m in messages) == [
        "ana@birch.test",
        "kei@cedar.test",
        "mio@cedar.test",
    ]
    assert (birch_run.automatic, birch_run.sent, birch_run.skipped) == (True, 1, 1)
    assert (cedar_run.sent, cedar_run.skipped) == (2, 0)
    with schema_context(cedar.schema_name):
        snapshot = BillingDocument.objects.filter(kind="statement").first().snapshot
    assert (snapshot["currency"], snapshot["ending_balance"]) == ("JPY", 12000)
    assert snapshot["period_start"] == "2026-11-01"

    log = worker.log()
    assert f"[{birch.schema_name}] tenant_apps.billing.runs: " in log
    for private in ["ana@birch.test", "kei@cedar.test", "Pat"]:
        assert private not in log

    # The beat fires again the same month: the automatic runs exist, nothing happens.
    dispatch_monthly_statements.apply_async(kwargs={"now_iso": "2026-12-06T12:00:00+00:00"})
    # And a person starts this month's batch again by hand in each practice.
    for practice in (birch, cedar):
        run_id = _committed_run(practice, birch_run.period_start, birch_run.period_end)
        run_statements.apply_async(args=[run_id], headers={"_schema_name": practice.schema_name})
    birch_rerun = _finished_runs(birch, 2)[-1]
    cedar_rerun = _finished_runs(cedar, 2)[-1]

    assert (birch_rerun.sent, cedar_rerun.sent) == (0, 0)
    assert {row["reason"] for row in cedar_rerun.report} == {"Already sent."}
    with schema_context(birch.schema_name):
        assert BillingRun.objects.filter(automatic=True).count() == 1
        assert BillingDocument.objects.filter(kind="statement").count() == 2
    assert len(_statement_emails(worker)) == 3
