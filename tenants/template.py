"""The template schema that new practices are cloned from.

`migrate_platform` migrates the template like any practice, then captures it once with
`pg_dump` (tables, indexes, constraints, triggers and rows such as `django_migrations`) as a
script stored in the public schema. Provisioning replays that script under the new schema's
name in one round trip: no migration is replayed or faked, and no catalog-walking clone runs,
so the time to provision stays flat as migrations are added. Replays done ahead of time, as
spare schemas that provisioning renames, take even that out of the call (tenants/spares.py).
"""

import os
import re
import shutil
import subprocess
from functools import lru_cache

from django.conf import settings
from django.core.management import call_command
from django_tenants.utils import schema_exists

from tenants.models import SchemaTemplate
from tenants.schemas import connection
from tenants.spares import claim_spare_schema, drop_stale_spare_schemas

PLACEHOLDER = "__practice_schema__"
_SCHEMA_NAME_RE = re.compile(r"^p_[0-9a-f]{16}$")
_SPARE_NAME_RE = re.compile(r"^spare_[0-9]+_[0-9a-f]{16}$")
# pg_dump session settings and psql meta-commands; the script runs inside our transaction.
_SKIPPED_LINE = re.compile(r"^(\\|SET |SELECT pg_catalog\.set_config|--)")


def migrate_template_schema(*, verbosity: int = 1) -> None:
    """Create the template schema if needed, migrate it, and capture it for provisioning."""
    name = settings.TENANT_BASE_SCHEMA
    if not schema_exists(name):
        with connection.cursor() as cursor:
            cursor.execute(f'CREATE SCHEMA "{name}"')
    call_command("migrate_schemas", schema_name=name, interactive=False, verbosity=verbosity)
    connection.set_schema_to_public()
    capture_template()


def _pg_dump_path() -> str:
    configured = os.environ.get("PG_DUMP")
    found = configured or shutil.which("pg_dump")
    if not found:
        raise RuntimeError("pg_dump is needed to capture the practice template; set PG_DUMP")
    return found


def capture_template() -> SchemaTemplate:
    db = settings.DATABASES["default"]
    env = {**os.environ, "PGPASSWORD": str(db.get("PASSWORD") or "")}
    command = [
        _pg_dump_path(),
        "--host",
        str(db.get("HOST") or "127.0.0.1"),
        "--port",
        str(db.get("PORT") or 5432),
        "--username",
        str(db.get("USER") or "postgres"),
        "--dbname",
        str(db["NAME"]),
        "--schema",
        settings.TENANT_BASE_SCHEMA,
        "--no-owner",
        "--no-privileges",
        "--no-comments",
        "--inserts",
        "--rows-per-insert=1000",
    ]
    dump = subprocess.run(command, env=env, check=True, capture_output=True, text=True).stdout
    script = _to_template_script(dump, settings.TENANT_BASE_SCHEMA)
    connection.set_schema_to_public()
    SchemaTemplate.objects.all().delete()
    template = SchemaTemplate.objects.create(script=script)
    # Spares replayed from the previous template would be missing this migration's changes.
    drop_stale_spare_schemas(template_id=template.pk)
    return template


def _to_template_script(dump: str, template_name: str) -> str:
    lines = [line for line in dump.splitlines() if line and not _SKIPPED_LINE.match(line)]
    script = "\n".join(lines)
    # pg_dump qualifies every object with its schema; the template's name is distinctive
    # enough ("practice_template") not to appear in any other identifier or value.
    script = re.sub(rf"\b{re.escape(template_name)}\b", PLACEHOLDER, script)
    return script


def current_template_id() -> int | None:
    return SchemaTemplate.objects.order_by("-id").values_list("id", flat=True).first()


@lru_cache(maxsize=2)
def _template_script(template_id: int) -> str:
    # A captured template never changes (a new capture is a new row), so its script is read
    # from the database once per process rather than once per provisioning.
    return SchemaTemplate.objects.values_list("script", flat=True).get(pk=template_id)


def replay_template(template_id: int, schema_name: str) -> None:
    """Run the template's script as `schema_name`, inside the caller's transaction."""
    if not (_SCHEMA_NAME_RE.match(schema_name) or _SPARE_NAME_RE.match(schema_name)):
        raise ValueError(f"Unexpected practice schema name {schema_name!r}")
    # One simple-protocol round trip (Django's psycopg cursors bind on the client side).
    with connection.cursor() as cursor:
        cursor.execute(_template_script(template_id).replace(PLACEHOLDER, schema_name))


def create_schema_from_template(schema_name: str) -> None:
    """Create `schema_name` as a copy of the template, inside the caller's transaction:
    a spare schema of the current template renamed if there is one, else a replay."""
    if not _SCHEMA_NAME_RE.match(schema_name):
        raise ValueError(f"Unexpected practice schema name {schema_name!r}")
    template_id = current_template_id()
    if template_id is None:
        raise RuntimeError("No practice template captured; run `manage.py migrate_platform`.")
    if claim_spare_schema(template_id=template_id, schema_name=schema_name):
        return
    replay_template(template_id, schema_name)
