"""Statements count days in the practice's zone: across the end of daylight saving time and
across month ends, a payment belongs to the local day it was made on."""

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django_tenants.utils import schema_context

from tenant_apps.billing import documents, services, statements
from tenant_apps.billing.models import BillingDocument, Payment
from tests.billing.conftest import issue

NEW_YORK = ZoneInfo("America/New_York")
LONDON = ZoneInfo("Europe/London")
# 2026: the US leaves daylight saving time on Nov 1, the UK on Oct 25.
ISSUED = datetime(2026, 10, 5, 14, 0, tzinfo=UTC)
OCT_31_2330_EDT = datetime(2026, 10, 31, 23, 30, tzinfo=NEW_YORK)  # Nov 1 03:30 UTC
NOV_1_0030_EDT = datetime(2026, 11, 1, 0, 30, tzinfo=NEW_YORK)  # before the 2 a.m. switch
NOV_1_0130_EST = datetime(2026, 11, 1, 1, 30, fold=1, tzinfo=NEW_YORK)  # the repeated hour
NOV_30_2330_EST = datetime(2026, 11, 30, 23, 30, tzinfo=NEW_YORK)  # Dec 1 04:30 UTC
DEC_1_0010_EST = datetime(2026, 12, 1, 0, 10, tzinfo=NEW_YORK)


def pay(client, amount, at):
    return services.record_payment(
        client, actor=None, method=Payment.Method.CASH, amount=amount, received_at=at
    )


def test_the_period_is_local_midnight_to_local_midnight_across_the_dst_change():
    since, until = statements.period_bounds(date(2026, 11, 1), date(2026, 11, 30), NEW_YORK)
    assert since == datetime(2026, 11, 1, 4, 0, tzinfo=UTC)  # EDT, UTC-4
    assert until == datetime(2026, 12, 1, 5, 0, tzinfo=UTC)  # EST, UTC-5
    # November 2026 in New York lasts 30 days and one hour (Python subtracts aware datetimes
    # of one zone by wall clock, so the elapsed time is measured in UTC).
    assert (until.astimezone(UTC) - since.astimezone(UTC)).total_seconds() == 30 * 86400 + 3600


def test_payments_belong_to_the_local_month_they_were_made_in(sunrise, carol_record):
    with schema_context(sunrise.schema_name):
        with time_machine.travel(ISSUED, tick=False):
            issue(carol_record, fee=100000)
        for amount, moment in [
            (1000, OCT_31_2330_EDT),
            (2000, NOV_1_0030_EDT),
            (4000, NOV_1_0130_EST),
            (8000, NOV_30_2330_EST),
            (16000, DEC_1_0010_EST),
        ]:
            pay(carol_record, amount, moment)

        october = statements.compute_statement(
            carol_record, start=date(2026, 10, 1), end=date(2026, 10, 31), zone=NEW_YORK
        )
        november = statements.compute_statement(
            carol_record, start=date(2026, 11, 1), end=date(2026, 11, 30), zone=NEW_YORK
        )
        december = statements.compute_statement(
            carol_record, start=date(2026, 12, 1), end=date(2026, 12, 31), zone=NEW_YORK
        )

    assert [a.amount for a in october.activity] == [100000, -1000]
    assert (october.beginning_balance, october.ending_balance) == (0, 99000)
    # The 23:30 payment on the last day of November is November's, though it is December in UTC.
    assert [a.amount for a in november.activity] == [-2000, -4000, -8000]
    assert (november.beginning_balance, november.ending_balance) == (99000, 85000)
    assert [a.amount for a in december.activity] == [-16000]
    assert december.beginning_balance == november.ending_balance


def test_a_london_practice_uses_its_own_zone(harbor, ivan_record):
    # Oct 31 23:30 in London is GMT (UTC+0) after the UK's Oct 25 change, still October.
    with schema_context(harbor.schema_name):
        with time_machine.travel(ISSUED, tick=False):
            issue(ivan_record, fee=5000)
        pay(ivan_record, 500, datetime(2026, 10, 31, 23, 30, tzinfo=LONDON))
        pay(ivan_record, 700, datetime(2026, 11, 1, 0, 0, tzinfo=LONDON))
        october = statements.compute_statement(
            ivan_record, start=date(2026, 10, 1), end=date(2026, 10, 31), zone=LONDON
        )
    assert [a.amount for a in october.activity] == [5000, -500]


def test_aging_sorts_unpaid_invoices_by_age_at_the_period_end(sunrise, carol_record):
    with schema_context(sunrise.schema_name):
        for day, fee in [
            (date(2026, 7, 15), 1000),
            (date(2026, 9, 10), 2000),
            (date(2026, 11, 20), 4000),
        ]:
            with time_machine.travel(
                datetime(day.year, day.month, day.day, 17, tzinfo=UTC), tick=False
            ):
                issue(carol_record, fee=fee)
        with time_machine.travel(datetime(2026, 10, 20, 17, tzinfo=UTC), tick=False):
            issue(carol_record, fee=8000)
        pay(carol_record, 500, datetime(2026, 11, 25, 12, tzinfo=NEW_YORK))
        data = statements.compute_statement(
            carol_record, start=date(2026, 11, 1), end=date(2026, 11, 30), zone=NEW_YORK
        )
    assert data.aging == {"current": 4000, "30": 8000, "60": 2000, "90+": 1000}
    assert data.unapplied_credit == 500
    assert sum(data.aging.values()) - data.unapplied_credit == data.ending_balance


def test_a_statement_document_snapshots_the_period_and_balances(sunrise, carol_record):
    with schema_context(sunrise.schema_name):
        with time_machine.travel(ISSUED, tick=False):
            issue(carol_record, fee=15000)
        pay(carol_record, 5000, NOV_30_2330_EST)
        document = documents.create_statement(
            carol_record, actor=None, start=date(2026, 11, 1), end=date(2026, 11, 30)
        )
    assert document.title == "Statement for November 2026"
    snapshot = document.snapshot
    assert (snapshot["beginning_balance"], snapshot["ending_balance"]) == (15000, 10000)
    assert snapshot["activity"] == [
        {"date": "2026-11-30", "description": "Payment by cash", "amount": -5000, "balance": 10000}
    ]
    assert snapshot["time_zone"] == "America/New_York"


@pytest.mark.parametrize(
    "start, end, message",
    [
        ("9999-12-31", "9999-12-31", "no more than a year from today"),
        ("0001-01-01", "9999-12-31", "in 1900 or later"),
        ("2026-11-01", "2028-01-01", "no more than a year from today"),
    ],
)
def test_a_statement_period_out_of_range_is_explained_and_nothing_is_made(
    sunrise, alice_browser, carol_record, start, end, message
):
    url = f"/practice/billing/clients/{carol_record.pk}/statements/new/"

    with time_machine.travel(datetime(2026, 11, 20, 20, tzinfo=UTC), tick=False):
        response = alice_browser.post(url, {"start": start, "end": end})

    assert response.status_code == 200
    assert message in response.content.decode()
    with schema_context(sunrise.schema_name):
        assert not BillingDocument.objects.exists()
