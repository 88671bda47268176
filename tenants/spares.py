"""Spare practice schemas, built ahead of time so that provisioning only renames one.

Replaying the template script costs one btree build per index, and PostgreSQL fsyncs every
btree it builds: with a few hundred indexes that is most of a provisioning. A spare is the
same replay done earlier, in a Celery task, under the name `spare_<template id>_<random>`;
provisioning claims one inside its own transaction with `ALTER SCHEMA ... RENAME`, which is
a single catalog update. When the provisioning rolls back, so does the rename, and the spare
is there for the next one.

A spare belongs to the template it was replayed from. `migrate_platform` captures a new
template (a new id), so spares of older templates are never claimed and are dropped; the
pool then refills from the new template. With no spare left, provisioning replays the
script itself, as it would with `PRACTICE_SPARE_SCHEMAS = 0`.
"""

import logging
import secrets

from django.conf import settings
from django.db import transaction

from tenants.schemas import connection

logger = logging.getLogger(__name__)

SPARE_PREFIX = "spare_"
# First key of the advisory locks taken here: claiming, dropping and refilling.
_LOCK_SPACE = 2_061_737
_REFILL_LOCK = 0


def spare_prefix(template_id: int) -> str:
    return f"{SPARE_PREFIX}{template_id}_"


def _spares(*, template_id: int | None = None) -> list[str]:
    prefix = spare_prefix(template_id) if template_id is not None else SPARE_PREFIX
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nspname FROM pg_namespace WHERE starts_with(nspname, %s)"
            " AND nspname ~ '^spare_[0-9]+_[0-9a-f]{16}$' ORDER BY nspname",
            [prefix],
        )
        return [row[0] for row in cursor.fetchall()]


def _try_lock(cursor: object, name: str) -> bool:
    """Take the spare's lock for this transaction and check that it still exists.

    Catalog reads see commits made after the list was read, so a spare that another
    provisioning claimed (and committed) meanwhile is seen to be gone."""
    cursor.execute(  # type: ignore[attr-defined]
        "SELECT pg_try_advisory_xact_lock(%s, hashtext(%s))"
        " AND EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = %s)",
        [_LOCK_SPACE, name, name],
    )
    return bool(cursor.fetchone()[0])  # type: ignore[attr-defined]


def claim_spare_schema(*, template_id: int, schema_name: str) -> bool:
    """Rename a spare of `template_id` to `schema_name`, inside the caller's transaction.

    Returns False when there is no spare to take; the caller then replays the template."""
    # Part of the caller's transaction (no savepoint): the spare's lock is held, and the
    # rename undone, with the provisioning's own outcome.
    with transaction.atomic(savepoint=False), connection.cursor() as cursor:
        for spare in _spares(template_id=template_id):
            if _try_lock(cursor, spare):
                cursor.execute(f'ALTER SCHEMA "{spare}" RENAME TO "{schema_name}"')
                return True
    return False


def drop_stale_spare_schemas(*, template_id: int | None) -> int:
    """Drop spares of every template but `template_id` (all of them when None)."""
    current = spare_prefix(template_id) if template_id is not None else None
    dropped = 0
    for spare in _spares():
        if current is not None and spare.startswith(current):
            continue
        with transaction.atomic(), connection.cursor() as cursor:
            if _try_lock(cursor, spare):
                cursor.execute(f'DROP SCHEMA "{spare}" CASCADE')
                dropped += 1
    return dropped


def refill_spare_schemas(*, target: int | None = None) -> int:
    """Build spares of the current template until `target` exist; return how many were built.

    One refill at a time: a second one finds the lock taken and returns at once, since the
    first will build what is missing."""
    from tenants.template import current_template_id, replay_template

    target = settings.PRACTICE_SPARE_SCHEMAS if target is None else target
    connection.set_schema_to_public()
    template_id = current_template_id()
    if template_id is None:
        return 0

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [_LOCK_SPACE, _REFILL_LOCK])
        if not cursor.fetchone()[0]:
            return 0
    try:
        drop_stale_spare_schemas(template_id=template_id)
        built = 0
        while len(_spares(template_id=template_id)) < target:
            name = f"{spare_prefix(template_id)}{secrets.token_hex(8)}"
            with transaction.atomic():
                replay_template(template_id, name)
            built += 1
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [_LOCK_SPACE, _REFILL_LOCK])
    if built:
        logger.info("Built %s spare practice schemas of template %s", built, template_id)
    return built
