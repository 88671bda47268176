"""The Celery app. Tasks run in the schema they were sent from (tenant-schemas-celery)."""

import os
from typing import Any

from django.db import transaction
from tenant_schemas_celery.app import CeleryApp

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = CeleryApp("swasth")
app.config_from_object("django.conf:settings", namespace="CELERY")
# Workers log through Django's LOGGING, which puts the practice schema on every record; Celery's
# own root handler would drop it, and a delivery id alone names a row in every practice.
app.conf.worker_hijack_root_logger = False
app.autodiscover_tasks()


def enqueue_on_commit(task: Any, *args: Any, **kwargs: Any) -> None:
    """Send `task` once the current transaction commits, in the schema that is active now.

    The schema is captured here rather than when the callback runs: by commit time the
    connection may have moved back to the public schema.
    """
    from tenants.schemas import connection  # not at import time: settings load this module

    schema_name = connection.schema_name
    transaction.on_commit(
        lambda: task.apply_async(args=args, kwargs=kwargs, headers={"_schema_name": schema_name})
    )
