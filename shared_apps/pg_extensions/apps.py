from django.apps import AppConfig


class PgExtensionsConfig(AppConfig):
    """PostgreSQL extensions that practice schemas rely on, created once in the public schema.

    Extensions belong to the database, not to a schema: created in `public`, their types and
    operator classes are found from every practice schema (django-tenants puts `public` on the
    search path) and by the default operator class lookup, which ignores the search path.
    """

    name = "shared_apps.pg_extensions"
    label = "pg_extensions"
