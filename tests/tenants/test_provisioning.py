import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.db import DataError, connection
from django_tenants.utils import schema_context

from tenant_apps.accounts.models import Role, User
from tenant_apps.mail.models import EmailDelivery
from tenants.models import Domain, Practice
from tenants.services import provision_practice


def _practice_schemas() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT nspname FROM pg_namespace WHERE nspname LIKE 'p\\_%%'")
        return {row[0] for row in cursor.fetchall()}


def test_it_provisions_schema_domain_and_owner(db, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        practice = provision_practice(
            actor=None,
            name="Willow Family Therapy",
            slug="Willow",
            owner_email="Owner@Willow.test",
            owner_name="Wendy Willow",
            plan_code="professional",
            time_zone="America/Denver",
        )

    assert practice.schema_name.startswith("p_")
    assert "willow" not in practice.schema_name
    assert practice.schema_name in _practice_schemas()
    assert Domain.objects.get(tenant=practice).domain == "willow.localhost"
    assert practice.plan.code == "professional" and practice.booking_available
    with schema_context(practice.schema_name):
        owner = User.objects.get()
        assert (owner.email, owner.role, owner.has_usable_password()) == (
            "owner@willow.test",
            Role.OWNER,
            False,
        )
        assert EmailDelivery.objects.get().sent_at is not None
    assert [m.to for m in mail.outbox] == [["owner@willow.test"]]
    assert "http://willow.localhost:8000/practice/welcome/" in mail.outbox[0].body


def test_a_new_practice_schema_is_fully_migrated(db):
    practice = provision_practice(
        actor=None, name="Migrated", slug="migrated", owner_email="o@m.test"
    )
    with schema_context(practice.schema_name), connection.cursor() as cursor:
        cursor.execute("SELECT app, name FROM django_migrations")
        applied = set(cursor.fetchall())
    from django.db.migrations.loader import MigrationLoader

    loader = MigrationLoader(connection)
    tenant_apps = {"accounts", "audit", "mail", "auth", "contenttypes", "sessions", "axes"}
    expected = {key for key in loader.graph.nodes if key[0] in tenant_apps}
    assert expected <= applied


def test_a_failure_halfway_leaves_no_schema_row_or_domain(db):
    schemas_before = _practice_schemas()
    practices_before = Practice.objects.count()

    # The owner row is written last, inside the new schema: an address longer than the
    # column allows fails there, after the schema, practice and domain were created.
    with pytest.raises(DataError):
        provision_practice(
            actor=None, name="Broken", slug="broken", owner_email=("x" * 250) + "@b.test"
        )

    assert Practice.objects.count() == practices_before
    assert not Domain.objects.filter(domain="broken.localhost").exists()
    assert _practice_schemas() == schemas_before


def test_it_refuses_a_taken_or_invalid_slug_before_creating_anything(sunrise):
    schemas_before = _practice_schemas()
    with pytest.raises(ValidationError):
        provision_practice(actor=None, name="Copy", slug="SUNRISE", owner_email="o@c.test")
    with pytest.raises(ValidationError):
        provision_practice(actor=None, name="Bad", slug="www", owner_email="o@c.test")
    assert _practice_schemas() == schemas_before


def test_the_command_provisions_a_practice(db, capsys):
    call_command(
        "provision_practice",
        "--name",
        "Cedar Counseling",
        "--slug",
        "cedar",
        "--owner-email",
        "owner@cedar.test",
        "--plan",
        "professional",
        "--time-zone",
        "America/New_York",
    )
    assert "http://cedar.localhost:8000/" in capsys.readouterr().out
    assert Practice.objects.get(domains__domain="cedar.localhost").name == "Cedar Counseling"


def test_the_command_explains_a_taken_slug(sunrise):
    with pytest.raises(CommandError, match="already taken"):
        call_command(
            "provision_practice", "--name", "X", "--slug", "sunrise", "--owner-email", "o@x.test"
        )
