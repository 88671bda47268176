"""Billing fixtures: the client records of tests/clients, and a ledger helper."""

from datetime import date

import pytest
from django_tenants.utils import schema_context

from tenant_apps.billing import services
from tenant_apps.billing.models import Service
from tests.clients.conftest import (  # noqa: F401  (fixtures shared with the clients tests)
    anonymous_sunrise,
    biller,
    biller_browser,
    carol_record,
    dave_browser,
    dave_record,
    ivan_browser,
    ivan_record,
)


@pytest.fixture(autouse=True)
def _private_media(tmp_path, settings):
    settings.MEDIA_ROOT = str(tmp_path / "media")


@pytest.fixture
def in_sunrise(sunrise):
    with schema_context(sunrise.schema_name):
        yield


@pytest.fixture
def therapy(sunrise):
    with schema_context(sunrise.schema_name):
        return Service.objects.create(name="Individual therapy", fee=15000, cpt_code="90834")


def issue(client, *, fee=15000, day=date(2026, 11, 3), units=1, actor=None, service=None):
    """A one-line invoice, issued. Call inside the practice's schema."""
    invoice = services.create_invoice(
        client,
        actor=actor,
        lines=[services.LineInput(date_of_service=day, unit_fee=fee, units=units, service=service)],
    )
    return services.issue_invoice(invoice, actor=actor)
