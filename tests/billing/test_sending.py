"""Sending documents: the client is emailed a link (nothing else) once per document, and the
document appears in their portal. The monthly batch reports sent, skipped and failed."""

from datetime import UTC, date, datetime

import pytest
import time_machine
from django.core import mail
from django.db import connection
from django_tenants.utils import schema_context

from tenant_apps.accounts.models import Role, User
from tenant_apps.audit.models import AuditEvent
from tenant_apps.billing import documents, runs, services
from tenant_apps.billing.models import BillingDocument, BillingProfile, BillingRun
from tenant_apps.billing.tasks import dispatch_monthly_statements
from tenant_apps.mail.models import EmailDelivery
from tests.billing.conftest import issue
from tests.conftest import race_behind_an_open_transaction
from tests.factories import ClientFactory

ISSUED = datetime(2026, 11, 5, 15, tzinfo=UTC)


@pytest.fixture
def carol_statement(sunrise, carol_record):
    with schema_context(sunrise.schema_name):
        with time_machine.travel(ISSUED, tick=False):
            issue(carol_record, fee=15000)
        services.add_diagnosis(carol_record, actor=None, code="F41.1")
        return documents.create_statement(
            carol_record, actor=None, start=date(2026, 11, 1), end=date(2026, 11, 30)
        )


def test_sending_emails_a_link_without_amounts_or_diagnoses(
    sunrise, carol_statement, django_capture_on_commit_callbacks
):
    with schema_context(sunrise.schema_name), django_capture_on_commit_callbacks(execute=True):
        outcome = services.send_document(carol_statement, actor=None)
    assert outcome.outcome == "sent"

    (message,) = mail.outbox
    assert message.to == ["carol@client.test"]
    assert message.subject == "Sunrise Therapy: a new billing document is in your Client Portal"
    body = message.body
    assert "http://sunrise.localhost:8000/billing/" in body
    for secret in ["150", "$", "F41", "anxiety", "Statement", "November", "Carol"]:
        assert secret not in body and secret not in message.subject, secret


def test_sending_twice_sends_one_email(
    sunrise, carol_statement, django_capture_on_commit_callbacks
):
    with schema_context(sunrise.schema_name), django_capture_on_commit_callbacks(execute=True):
        first = services.send_document(carol_statement, actor=None)
        carol_statement.refresh_from_db()
        second = services.send_document(carol_statement, actor=None)
    assert (first.outcome, second.outcome, second.reason) == ("sent", "skipped", "Already sent.")
    assert len(mail.outbox) == 1


def test_a_client_without_a_portal_account_is_skipped_with_the_reason(sunrise):
    with schema_context(sunrise.schema_name):
        erin = ClientFactory(legal_first_name="Erin")
        issue(erin)
        document = documents.create_statement(
            erin, actor=None, start=date(2026, 11, 1), end=date(2026, 11, 30)
        )
        outcome = services.send_document(document, actor=None)
        document.refresh_from_db()
    assert (outcome.outcome, outcome.reason) == ("skipped", "The client has no portal account.")
    assert document.shared_at is None and not mail.outbox


def test_bulk_send_from_the_workspace_reports_each_client(
    sunrise, carol_record, dave_record, alice_browser, django_capture_on_commit_callbacks
):
    with schema_context(sunrise.schema_name), time_machine.travel(ISSUED, tick=False):
        issue(carol_record, fee=15000)
        erin = ClientFactory(legal_first_name="Erin", legal_last_name="Noportal")
        issue(erin, fee=9000)
        # Dave has neither activity nor a balance: he gets no statement.

    with (
        time_machine.travel(datetime(2026, 12, 3, 15, tzinfo=UTC), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        response = alice_browser.post(
            "/practice/billing/statement-runs/", HTTP_HOST="sunrise.localhost"
        )
    assert response.status_code == 302
    with schema_context(sunrise.schema_name):
        run = BillingRun.objects.get()
    assert (run.status, run.period_start, run.period_end) == (
        "finished",
        date(2026, 11, 1),
        date(2026, 11, 30),
    )
    assert (run.total, run.sent, run.skipped, run.failed) == (2, 1, 1, 0)
    assert [message.to for message in mail.outbox] == [["carol@client.test"]]

    page = alice_browser.get(response["Location"], HTTP_HOST="sunrise.localhost").content.decode()
    assert "Carol Client" in page and "Erin Noportal" in page
    assert "The client has no portal account." in page
    status = alice_browser.get(
        f"/practice/billing/statement-runs/{run.pk}/status/", HTTP_HOST="sunrise.localhost"
    ).json()
    assert status == {"status": "finished", "clients_total": 3, "clients_checked": 3,
                      "total": 2, "processed": 2, "sent": 1, "skipped": 1, "failed": 0,
                      "done": True}  # fmt: skip

    # The same month's batch again: nothing is sent twice.
    with (
        time_machine.travel(datetime(2026, 12, 3, 16, tzinfo=UTC), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        alice_browser.post("/practice/billing/statement-runs/", HTTP_HOST="sunrise.localhost")
    with schema_context(sunrise.schema_name):
        rerun = BillingRun.objects.order_by("-id").first()
        assert BillingDocument.objects.filter(kind="statement").count() == 2
    assert (rerun.sent, rerun.skipped) == (0, 2)
    assert {row["reason"] for row in rerun.report} == {
        "Already sent.",
        "The client has no portal account.",
    }
    assert len(mail.outbox) == 1


def test_a_run_saves_its_progress_over_every_client_batch_by_batch(
    sunrise, carol_record, dave_record, monkeypatch
):
    """Dave has no activity and gets no statement, but checking him is progress too."""
    seen = []
    save_progress = runs._save_progress

    def save_and_read_back(run, *, checked):
        save_progress(run, checked=checked)
        seen.append(
            BillingRun.objects.values_list("clients_checked", "clients_total").get(pk=run.pk)
        )

    monkeypatch.setattr(runs, "BATCH_SIZE", 1)
    monkeypatch.setattr(runs, "_save_progress", save_and_read_back)
    with schema_context(sunrise.schema_name):
        with time_machine.travel(ISSUED, tick=False):
            issue(carol_record, fee=15000)
        run = BillingRun.objects.create(
            period_start=date(2026, 11, 1), period_end=date(2026, 11, 30)
        )
        run = runs.process_run(run.pk)

    assert seen == [(1, 2), (2, 2)]
    assert (run.status, run.total, run.sent) == ("finished", 1, 1)


def test_the_run_page_shows_how_many_clients_are_checked_while_it_runs(sunrise, alice_browser):
    with schema_context(sunrise.schema_name):
        run = BillingRun.objects.create(
            period_start=date(2026, 11, 1),
            period_end=date(2026, 11, 30),
            status="running",
            clients_total=40,
            clients_checked=15,
            total=6,
            processed=6,
            sent=5,
            skipped=1,
        )
    url = f"/practice/billing/statement-runs/{run.pk}/"

    page = alice_browser.get(url, HTTP_HOST="sunrise.localhost").content.decode()
    status = alice_browser.get(url + "status/", HTTP_HOST="sunrise.localhost").json()

    assert '<progress max="40" value="15"' in page
    assert "<span data-clients_checked>15</span> of <span data-clients_total>40</span>" in page
    assert "This page updates itself." in page and "<h2>Report</h2>" not in page
    assert (status["clients_checked"], status["clients_total"], status["done"]) == (15, 40, False)


def test_the_automatic_run_starts_at_local_midnight_of_the_chosen_day(
    sunrise, carol_record, django_capture_on_commit_callbacks
):
    with schema_context(sunrise.schema_name):
        BillingProfile.objects.update_or_create(
            pk=1, defaults={"monthly_statements_enabled": True, "statement_day": 5}
        )
        with time_machine.travel(ISSUED, tick=False):
            issue(carol_record)
        # 23:59 on Dec 4 in New York is already Dec 5 in UTC: not yet.
        assert runs.run_if_due(datetime(2026, 12, 5, 4, 59, tzinfo=UTC)) is None
        with django_capture_on_commit_callbacks(execute=True):
            run = runs.run_if_due(datetime(2026, 12, 5, 5, 0, tzinfo=UTC))
        assert run is not None and run.automatic
        assert (run.period_start, run.sent) == (date(2026, 11, 1), 1)
        # Later beats the same month find the run made.
        assert runs.run_if_due(datetime(2026, 12, 9, 5, 0, tzinfo=UTC)) is None
    assert len(mail.outbox) == 1


def test_practices_that_have_not_enabled_it_get_no_automatic_statements(sunrise, carol_record):
    with schema_context(sunrise.schema_name):
        issue(carol_record)
        assert runs.run_if_due(datetime(2026, 12, 5, 5, 0, tzinfo=UTC)) is None
        assert not BillingRun.objects.exists()


def test_the_beat_task_asks_every_active_practice(sunrise, harbor, monkeypatch):
    asked = []
    monkeypatch.setattr(
        "tenant_apps.billing.tasks.monthly_statements_if_due.apply_async",
        lambda kwargs, headers: asked.append(headers["_schema_name"]),
    )
    harbor.status = "suspended"
    harbor.save(update_fields=["status"])
    dispatch_monthly_statements()
    assert sunrise.schema_name in asked and harbor.schema_name not in asked


def test_deliveries_are_keyed_by_document(sunrise, carol_statement):
    with schema_context(sunrise.schema_name):
        services.send_document(carol_statement, actor=None)
        delivery = EmailDelivery.objects.get(kind="billing_document_ready")
        assert delivery.key == f"billing_document_ready:{carol_statement.pk}"


def test_a_batch_that_cannot_be_made_is_reported_failed_and_the_run_finishes(
    sunrise, carol_record, monkeypatch, django_capture_on_commit_callbacks
):
    def broken(*args, **kwargs):
        raise RuntimeError("simulated database trouble")

    with schema_context(sunrise.schema_name):
        issue(carol_record)
        monkeypatch.setattr("tenant_apps.billing.documents.create_monthly_statements", broken)
        run = BillingRun.objects.create(
            period_start=date(2026, 11, 1), period_end=date(2026, 11, 30)
        )
        run = runs.process_run(run.pk)
    assert run.status == "finished"
    assert (run.failed, run.total, run.sent) == (run.processed, run.processed, 0)
    assert run.failed >= 1
    assert {row["reason"] for row in run.report} == {"The statement could not be made."}
    assert not mail.outbox


def test_beat_runs_the_dispatcher_every_quarter_hour():
    from config.celery import app

    entry = app.conf.beat_schedule["billing-monthly-statements"]
    assert entry == {
        "task": "tenant_apps.billing.tasks.dispatch_monthly_statements",
        "schedule": 900,
    }
    assert entry["task"] in app.tasks


def test_two_sends_at_once_send_once_and_the_second_says_already_sent(
    committed_practice, django_db_blocker
):
    """Two real connections: the second send queues behind the first's lock on the document
    and then finds its email, instead of reporting a send of its own."""

    def send() -> services.SendOutcome:
        return services.send_document(document, actor=None)

    with django_db_blocker.unblock():
        with schema_context(committed_practice.schema_name):
            user = User.objects.create_user("rory@committed.test", role=Role.CLIENT)
            rory = ClientFactory(email=user.email, user=user)
            with time_machine.travel(ISSUED, tick=False):
                document = BillingDocument.objects.get(invoice=issue(rory, fee=9000))
        outcomes = race_behind_an_open_transaction(committed_practice.schema_name, send, send)
        with schema_context(committed_practice.schema_name):
            deliveries = EmailDelivery.objects.filter(object_id=document.pk).count()
            events = AuditEvent.objects.filter(action="billing.document_sent").count()
        connection.close()

    assert [(o.outcome, o.reason) for o in outcomes] == [("sent", ""), ("skipped", "Already sent.")]
    assert (deliveries, events) == (1, 1)
