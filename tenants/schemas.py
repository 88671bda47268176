"""The database connection, typed as what django-tenants makes it: schema-aware.

Import `connection` from here instead of `django.db` where the schema is read or switched,
so that the type checker knows about `schema_name`, `set_tenant` and friends.
"""

from typing import TYPE_CHECKING, cast

from django.db import connection as _connection
from django_tenants.postgresql_backend.base import DatabaseWrapper

if TYPE_CHECKING:
    from tenants.models import Practice

connection = cast(DatabaseWrapper, _connection)

__all__ = ["connection", "current_practice"]


def current_practice() -> "Practice":
    """The practice whose schema the connection is on (in a request, a task or a shell)."""
    from tenants.models import Practice

    tenant = connection.tenant
    if isinstance(tenant, Practice):
        return tenant
    return Practice.objects.select_related("plan").get(schema_name=connection.schema_name)
