"""Spare practice schemas: claimed by provisioning, identical to the template, never stale."""

import threading

import pytest
from django.conf import settings
from django.db import DataError, connection, connections
from django_tenants.utils import schema_context

from tenant_apps.accounts.models import User
from tenants import spares
from tenants.models import Practice
from tenants.services import provision_practice
from tenants.template import capture_template, current_template_id
from tests.practices import drop_practice, provision_test_practice
from tests.worker import start_worker, tasks_sent_to, wait_until


def _spare_schemas() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT nspname FROM pg_namespace WHERE nspname LIKE 'spare\\_%%'")
        return sorted(row[0] for row in cursor.fetchall())


def _practice_schemas() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT nspname FROM pg_namespace WHERE nspname LIKE 'p\\_%%'")
        return {row[0] for row in cursor.fetchall()}


def _describe(schema: str) -> dict[str, list[tuple[str, ...]]]:
    """What a schema is made of, with its own name taken out so two schemas compare."""
    queries = {
        "columns": """
            SELECT table_name, column_name, data_type, is_nullable,
                   coalesce(column_default, ''), coalesce(is_identity, '')
            FROM information_schema.columns WHERE table_schema = %(s)s""",
        "constraints": """
            SELECT t.relname, c.conname, pg_get_constraintdef(c.oid)
            FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid
            WHERE t.relnamespace = %(s)s::regnamespace""",
        "indexes": "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = %(s)s",
        "triggers": """
            SELECT c.relname, t.tgname, pg_get_triggerdef(t.oid)
            FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
            WHERE c.relnamespace = %(s)s::regnamespace AND NOT t.tgisinternal""",
        "sequences": """
            SELECT sequencename, data_type::text, start_value::text, increment_by::text
            FROM pg_sequences WHERE schemaname = %(s)s""",
    }
    description = {}
    with connection.cursor() as cursor:
        for name, sql in queries.items():
            cursor.execute(sql, {"s": schema})
            description[name] = sorted(
                tuple(str(value).replace(schema, "<schema>") for value in row)
                for row in cursor.fetchall()
            )
        cursor.execute(f'SELECT app, name FROM "{schema}".django_migrations ORDER BY app, name')
        description["migrations"] = cursor.fetchall()
    return description


def _shape(schema: str) -> dict[str, list[tuple[str, ...]]]:
    """`_describe` with constraints and indexes by name only. A schema replayed from pg_dump's
    script states `x IN (...)` conditions in an equivalent but differently spelled form from
    the migrated template's, so exact definitions are compared between copies only."""
    description = _describe(schema)
    for kind in ("constraints", "indexes"):
        description[kind] = [row[:-1] for row in description[kind]]
    return description


@pytest.fixture
def one_spare(db, settings):
    settings.PRACTICE_SPARE_SCHEMAS = 1
    assert spares.refill_spare_schemas() == 1
    (spare,) = _spare_schemas()
    return spare


def test_it_builds_spares_of_the_current_template_up_to_the_setting(db, settings):
    settings.PRACTICE_SPARE_SCHEMAS = 2

    assert spares.refill_spare_schemas() == 2
    assert spares.refill_spare_schemas() == 0

    prefix = spares.spare_prefix(current_template_id() or 0)
    assert [name.startswith(prefix) for name in _spare_schemas()] == [True, True]


def test_a_provisioning_claims_a_spare_identical_to_the_template(one_spare):
    practice = provision_practice(actor=None, name="Spare", slug="spare", owner_email="o@s.test")

    assert _spare_schemas() == []
    assert practice.schema_name in _practice_schemas()
    assert _shape(practice.schema_name) == _shape(settings.TENANT_BASE_SCHEMA)
    with schema_context(practice.schema_name):
        assert list(User.objects.values_list("email", flat=True)) == ["o@s.test"]


def test_a_claimed_schema_is_identical_to_a_replayed_one(one_spare):
    claimed = provision_practice(actor=None, name="A", slug="claimed", owner_email="o@a.test")
    replayed = provision_practice(actor=None, name="B", slug="replayed", owner_email="o@b.test")

    assert _describe(claimed.schema_name) == _describe(replayed.schema_name)


def test_a_failed_provisioning_gives_the_spare_back(one_spare):
    schemas_before = _practice_schemas()

    with pytest.raises(DataError):
        provision_practice(
            actor=None, name="Broken", slug="broken", owner_email=("x" * 250) + "@b.test"
        )

    assert _spare_schemas() == [one_spare]
    assert _practice_schemas() == schemas_before
    assert not Practice.objects.filter(name="Broken").exists()


def test_a_new_template_drops_the_spares_of_the_old_one(one_spare):
    old_template = current_template_id()

    capture_template()

    assert current_template_id() != old_template
    assert _spare_schemas() == []
    practice = provision_practice(actor=None, name="New", slug="fresh", owner_email="o@n.test")
    assert _shape(practice.schema_name) == _shape(settings.TENANT_BASE_SCHEMA)
    assert spares.refill_spare_schemas() == 1
    assert _spare_schemas()[0].startswith(spares.spare_prefix(current_template_id() or 0))


def test_a_spare_of_an_older_template_is_never_claimed(one_spare, django_assert_num_queries):
    newer = (current_template_id() or 0) + 1

    with django_assert_num_queries(1):
        claimed = spares.claim_spare_schema(template_id=newer, schema_name="p_" + "0" * 16)

    assert not claimed
    assert _spare_schemas() == [one_spare]


def test_a_provisioning_queues_a_refill_when_spares_are_wanted(
    one_spare, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        provision_practice(actor=None, name="Refill", slug="refill", owner_email="o@r.test")

    # Tasks run eagerly in tests: the refill built the spare that the provisioning took.
    (spare,) = _spare_schemas()
    assert spare != one_spare


def _provision_in_own_connection(slug, barrier, results):
    """Provision on a fresh database connection of this thread."""
    try:
        barrier.wait(timeout=10)
        results.append(
            provision_practice(actor=None, name=slug, slug=slug, owner_email=f"o@{slug}.test")
        )
    except Exception as error:  # the test reports it
        results.append(error)
    finally:
        connections.close_all()


def test_two_provisionings_at_once_never_take_the_same_spare(
    django_db_setup, django_db_blocker, settings
):
    settings.PRACTICE_SPARE_SCHEMAS = 1
    with django_db_blocker.unblock():
        spares.refill_spare_schemas()
        # No refill after these provisionings (tasks run in-process here): one spare, two takers.
        settings.PRACTICE_SPARE_SCHEMAS = 0
        results: list[object] = []
        try:
            barrier = threading.Barrier(2)
            threads = [
                threading.Thread(target=_provision_in_own_connection, args=(slug, barrier, results))
                for slug in ("spare-race-one", "spare-race-two")
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=60)

            assert [type(result) for result in results] == [Practice, Practice]
            schemas = {result.schema_name for result in results}  # type: ignore[attr-defined]
            assert len(schemas) == 2 and schemas <= _practice_schemas()
            assert _spare_schemas() == []
        finally:
            for result in results:
                if isinstance(result, Practice):
                    drop_practice(result)
            spares.drop_stale_spare_schemas(template_id=None)


@pytest.mark.worker
def test_a_worker_refills_the_spare_that_a_provisioning_took(
    django_db_setup, django_db_blocker, settings, tmp_path
):
    settings.PRACTICE_SPARE_SCHEMAS = 1
    worker = start_worker(tmp_path, environment={"PRACTICE_SPARE_SCHEMAS": "1"})
    practices: list[Practice] = []
    try:
        with django_db_blocker.unblock(), tasks_sent_to(worker):
            # Nothing to claim yet: the first replays, and its refill builds a spare.
            practices.append(
                provision_test_practice("Spare One", "spare-one", "starter", "UTC", ())
            )
            (first_spare,) = wait_until(_spare_schemas, what="the worker to build a spare")

            practices.append(
                provision_test_practice("Spare Two", "spare-two", "starter", "UTC", ())
            )
            assert first_spare not in _spare_schemas()
            (second_spare,) = wait_until(_spare_schemas, what="the worker to build another")
            assert second_spare != first_spare
    finally:
        worker.stop()
        with django_db_blocker.unblock():
            for practice in practices:
                drop_practice(practice)
            spares.drop_stale_spare_schemas(template_id=None)
