import secrets
from functools import lru_cache
from typing import ClassVar

import phonenumbers
from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django_tenants.models import DomainMixin, TenantMixin
from django_tenants.utils import schema_exists

from shared_apps.plans.models import Feature, Plan
from tenants.schemas import connection

# How long a client may stay idle in the portal before being signed out, in minutes.
MIN_CLIENT_IDLE_TIMEOUT, MAX_CLIENT_IDLE_TIMEOUT = 15, 120


def new_schema_name() -> str:
    """An internal, immutable identifier that never reveals the practice's name or slug."""
    return f"p_{secrets.token_hex(8)}"


class Practice(TenantMixin):
    """A clinician practice: one PostgreSQL schema, one portal, one plan.

    Practice details live here, in the public schema, because the host resolution cache
    carries them: the portal shows the practice name without a query.
    """

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        SUSPENDED = "suspended", "Suspended"

    schema_name: str  # declared by TenantMixin, which carries no annotations

    name = models.CharField(max_length=120)
    plan = models.ForeignKey(Plan, on_delete=models.PROTECT, related_name="practices")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
    created_at = models.DateTimeField(auto_now_add=True)

    time_zone = models.CharField(max_length=64, default="America/New_York")
    phone = models.CharField(max_length=32, blank=True, help_text="Stored in E.164 form.")
    address_line1 = models.CharField("address", max_length=200, blank=True)
    address_line2 = models.CharField("address line 2", max_length=200, blank=True)
    city = models.CharField(max_length=100, blank=True)
    region = models.CharField("state / region", max_length=100, blank=True)
    postal_code = models.CharField(max_length=20, blank=True)
    country = models.CharField(max_length=2, default="US", help_text="ISO 3166 country code.")
    show_address_to_clients = models.BooleanField(default=True)
    cancellation_policy = models.TextField(blank=True)
    cancellation_notice_hours = models.PositiveSmallIntegerField(default=24)
    currency = models.CharField(max_length=3, default="USD", help_text="ISO 4217 code.")
    client_idle_timeout_minutes = models.PositiveSmallIntegerField(
        "sign clients out after (minutes idle)",
        default=30,
        validators=[
            MinValueValidator(MIN_CLIENT_IDLE_TIMEOUT),
            MaxValueValidator(MAX_CLIENT_IDLE_TIMEOUT),
        ],
    )

    portal_locked_at = models.DateTimeField(null=True, blank=True)

    auto_create_schema = True
    auto_drop_schema = False

    domains: "models.Manager[Domain]"

    class Meta:
        ordering: ClassVar = ["name"]

    def __str__(self) -> str:
        return self.name

    def save(self, *args: object, **kwargs: object) -> None:
        if not self.schema_name:
            self.schema_name = new_schema_name()
        super().save(*args, **kwargs)  # type: ignore[arg-type]

    def create_schema(
        self, check_if_exists: bool = False, sync_schema: bool = True, verbosity: int = 1
    ) -> bool:
        """Create the schema as a copy of the migrated template, rows included.

        The copy carries `django_migrations`, so the new schema is already migrated: nothing
        replays or fakes migrations (see `tenants.template`).
        """
        from tenants.template import create_schema_from_template

        if check_if_exists and schema_exists(self.schema_name):
            return False
        create_schema_from_template(self.schema_name)
        connection.set_schema_to_public()
        return True

    @property
    def is_suspended(self) -> bool:
        return self.status == self.Status.SUSPENDED

    @property
    def is_portal_locked(self) -> bool:
        return self.portal_locked_at is not None

    def has_feature(self, feature: Feature) -> bool:
        return feature in self.plan.features

    @property
    def booking_available(self) -> bool:
        """Whether the plan includes online booking; the practice also switches it on itself
        (tenant_apps.booking.access.online_booking_enabled)."""
        return self.has_feature(Feature.ONLINE_BOOKING)

    @property
    def primary_domain(self) -> str:
        """The primary domain's host name; cached on the instance by the host resolver."""
        cached = getattr(self, "_primary_domain", None)
        if cached is None:
            cached = self.domains.get(is_primary=True).domain
            self._primary_domain = cached
        return cached

    @property
    def slug(self) -> str:
        return self.primary_domain.removesuffix(f".{settings.PLATFORM_DOMAIN}")

    @property
    def portal_url(self) -> str:
        from tenants.hosts import practice_url

        return practice_url(self, "/")

    @property
    def display_phone(self) -> str:
        """The phone number as people write it (see _display_phone)."""
        return _display_phone(self.phone, self.country) if self.phone else ""

    @property
    def display_address_lines(self) -> list[str]:
        locality = " ".join(p for p in [self.city, self.region, self.postal_code] if p)
        return [line for line in [self.address_line1, self.address_line2, locality] if line]


@lru_cache(maxsize=1024)
def _display_phone(phone: str, country: str) -> str:
    """National form in the practice's own country, international form otherwise; the stored
    text when it does not parse. Cached: every portal page shows it, and parsing costs ~20 µs."""
    try:
        number = phonenumbers.parse(phone, country or None)
    except phonenumbers.NumberParseException:
        return phone
    home = phonenumbers.region_code_for_number(number) == country
    style = phonenumbers.PhoneNumberFormat
    return phonenumbers.format_number(number, style.NATIONAL if home else style.INTERNATIONAL)


class Domain(DomainMixin):
    """A host name of a practice: its primary domain is `<slug>.<PLATFORM_DOMAIN>`.

    Host names are stored lowercase without a trailing dot, so uniqueness is case-insensitive.
    """

    domain: str  # declared by DomainMixin, which carries no annotations

    @classmethod
    def from_db(
        cls, db: str | None, field_names: object, values: object, **kwargs: object
    ) -> "Domain":
        instance = super().from_db(db, field_names, values, **kwargs)  # type: ignore[arg-type]
        # Remembered so that a rename can drop the cached resolution of the old host.
        instance._loaded_domain = instance.domain  # type: ignore[attr-defined]
        return instance

    def save(self, *args: object, **kwargs: object) -> None:
        self.domain = self.domain.lower().rstrip(".")
        super().save(*args, **kwargs)  # type: ignore[arg-type]


class SchemaTemplate(models.Model):
    """The SQL that creates a practice schema, captured from the migrated template schema."""

    script = models.TextField()
    captured_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"Practice schema template of {self.captured_at:%Y-%m-%d %H:%M}"


class ReservedSlug(models.Model):
    """A slug that was locked once. It stays reserved to its practice forever and, when the
    practice moves, redirects permanently to the practice's current portal."""

    slug = models.CharField(max_length=40, unique=True)
    practice = models.ForeignKey(Practice, on_delete=models.CASCADE, related_name="reserved_slugs")
    reserved_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.slug
