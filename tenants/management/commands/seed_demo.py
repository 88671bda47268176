"""Demo data: two practices with made-up people, for trying the product by hand."""

from dataclasses import dataclass
from datetime import time
from typing import Any

from django.core.management.base import BaseCommand
from django.db import transaction
from django_tenants.utils import schema_context

from shared_apps.plans.models import Plan
from tenant_apps.accounts.models import Role, User
from tenant_apps.booking.models import BookableService, BookingSettings, Location, WorkingHours
from tenant_apps.clients.models import Client
from tenants.hosts import host_for_slug, platform_url
from tenants.models import Practice
from tenants.services import provision_practice

DEMO_PASSWORD = "demo-password-2026"


@dataclass(frozen=True)
class DemoPractice:
    name: str
    slug: str
    plan: str
    time_zone: str
    currency: str
    phone: str
    address: tuple[str, str, str, str, str]
    people: tuple[tuple[str, str, str], ...]


DEMO_PRACTICES = (
    DemoPractice(
        name="Sunrise Therapy",
        slug="sunrise",
        plan=Plan.PROFESSIONAL,
        time_zone="America/New_York",
        currency="USD",
        phone="+12125550147",
        address=("120 Example Avenue, Suite 4", "New York", "NY", "10001", "US"),
        people=(
            ("owner@sunrise.example", "Maya Okafor", Role.OWNER),
            ("clinician@sunrise.example", "Daniel Reyes", Role.CLINICIAN),
            ("alex@client.example", "Alex Rivera", Role.CLIENT),
            ("jordan@client.example", "Jordan Lee", Role.CLIENT),
        ),
    ),
    DemoPractice(
        name="Harbor Counseling",
        slug="harbor",
        plan=Plan.STARTER,
        time_zone="Europe/London",
        currency="GBP",
        phone="+442079460958",
        address=("8 Sample Quay", "London", "", "E1 6AN", "GB"),
        people=(
            ("owner@harbor.example", "Priya Shah", Role.OWNER),
            ("clinician@harbor.example", "Tom Whitfield", Role.CLINICIAN),
            ("sam@client.example", "Sam Patel", Role.CLIENT),
            ("robin@client.example", "Robin Clarke", Role.CLIENT),
        ),
    ),
)

OPERATOR_EMAIL = "operator@example.com"


class Command(BaseCommand):
    help = "Provision the demo practices (sunrise, harbor) and print every URL and sign-in."

    def handle(self, *args: Any, **options: Any) -> None:
        self._ensure_operator()
        for demo in DEMO_PRACTICES:
            self._ensure_practice(demo)
        self._print_summary()

    def _ensure_operator(self) -> None:
        if not User.objects.filter(email=OPERATOR_EMAIL).exists():
            User.objects.create_superuser(
                OPERATOR_EMAIL, DEMO_PASSWORD, full_name="Platform Operator"
            )

    @transaction.atomic
    def _ensure_practice(self, demo: DemoPractice) -> None:
        if self._existing(demo) is not None:
            return
        owner_email, owner_name, _ = demo.people[0]
        practice = provision_practice(
            actor=None,
            name=demo.name,
            slug=demo.slug,
            owner_email=owner_email,
            owner_name=owner_name,
            plan_code=demo.plan,
            time_zone=demo.time_zone,
            currency=demo.currency,
        )
        line1, city, region, postal_code, country = demo.address
        Practice.objects.filter(pk=practice.pk).update(
            phone=demo.phone,
            address_line1=line1,
            city=city,
            region=region,
            postal_code=postal_code,
            country=country,
            # The portal adds the notice period ("Please cancel at least 24 hours before…").
            cancellation_policy="Late cancellations may be charged the full session fee.",
        )
        with schema_context(practice.schema_name):
            users = {}
            for email, full_name, role in demo.people:
                user = User.objects.filter(email=email).first() or User.objects.create_user(
                    email, full_name=full_name, role=role
                )
                user.set_password(DEMO_PASSWORD)
                user.save(update_fields=["password"])
                users[email] = user
            clinician = next(u for u in users.values() if u.role == Role.CLINICIAN)
            for user in users.values():
                if user.role == Role.CLIENT:
                    first, last = user.full_name.split(" ", 1)
                    Client.objects.get_or_create(
                        user=user,
                        defaults={
                            "legal_first_name": first,
                            "legal_last_name": last,
                            "email": user.email,
                            "assigned_clinician": clinician,
                        },
                    )
            if demo.plan == Plan.PROFESSIONAL:
                self._open_online_booking(clinician)

    def _open_online_booking(self, clinician: User) -> None:
        """Booking on, one instant and one on-request service, weekday hours."""
        settings_row, _ = BookingSettings.objects.get_or_create(singleton=True)
        settings_row.enabled = True
        settings_row.save()
        for name, mode, location in (
            ("Individual therapy", BookableService.Mode.INSTANT, Location.OFFICE),
            ("First consultation (telehealth)", BookableService.Mode.REQUEST, Location.TELEHEALTH),
        ):
            service, _ = BookableService.objects.get_or_create(
                name=name,
                defaults={"duration_minutes": 50, "fee": 15000, "mode": mode, "location": location},
            )
            service.clinicians.add(clinician)
        for weekday in range(5):
            WorkingHours.objects.get_or_create(
                clinician=clinician,
                weekday=weekday,
                defaults={"start_time": time(9), "end_time": time(17)},
            )

    @staticmethod
    def _existing(demo: DemoPractice) -> Practice | None:
        """The demo practice, also after its owner moved its portal address."""
        return (
            Practice.objects.filter(name=demo.name).first()
            or Practice.objects.filter(domains__domain=host_for_slug(demo.slug)).first()
        )

    def _print_summary(self) -> None:
        out = self.stdout.write
        out("")
        out(f"Operator console: {platform_url('/operator/')}")
        out(f"  {OPERATOR_EMAIL} / {DEMO_PASSWORD}")
        for demo in DEMO_PRACTICES:
            practice = self._existing(demo)
            if practice is None:
                continue
            out("")
            out(f"{demo.name} ({demo.plan}, {demo.time_zone})")
            out(f"  Client portal: {practice.portal_url}")
            out(f"  Workspace:     {practice.portal_url}practice/")
            for email, _name, role in demo.people:
                out(f"    {role:<10} {email} / {DEMO_PASSWORD}")
        out("")
