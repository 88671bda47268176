from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from shared_apps.plans.models import Plan
from tenants.services import provision_practice


class Command(BaseCommand):
    help = "Provision a practice: its schema, portal address and owner (who gets an invitation)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--name", required=True)
        parser.add_argument("--slug", required=True)
        parser.add_argument("--owner-email", required=True)
        parser.add_argument("--owner-name", default="")
        parser.add_argument(
            "--plan", default=Plan.STARTER, choices=[Plan.STARTER, Plan.PROFESSIONAL]
        )
        parser.add_argument("--time-zone", default="America/New_York")
        parser.add_argument("--currency", default="USD")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            practice = provision_practice(
                actor=None,
                name=options["name"],
                slug=options["slug"],
                owner_email=options["owner_email"],
                owner_name=options["owner_name"],
                plan_code=options["plan"],
                time_zone=options["time_zone"],
                currency=options["currency"],
            )
        except ValidationError as error:
            raise CommandError("; ".join(error.messages)) from error
        self.stdout.write(f"Provisioned {practice.name} at {practice.portal_url}")
