from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand

from tenants.template import migrate_template_schema


class Command(BaseCommand):
    help = (
        "Migrate everything: the public schema, the template new practices are cloned from, "
        "then every practice schema."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        verbosity = options["verbosity"]
        call_command("migrate_schemas", shared=True, interactive=False, verbosity=verbosity)
        migrate_template_schema(verbosity=verbosity)
        call_command("migrate_schemas", tenant=True, interactive=False, verbosity=verbosity)
