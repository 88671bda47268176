"""The database connection, typed as what django-tenants makes it: schema-aware.

Import `connection` from here instead of `django.db` where the schema is read or switched,
so that the type checker knows about `schema_name`, `set_tenant` and friends.
"""

from typing import cast

from django.db import connection as _connection
from django_tenants.postgresql_backend.base import DatabaseWrapper

connection = cast(DatabaseWrapper, _connection)

__all__ = ["connection"]
