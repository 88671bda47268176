"""Writes to practices: provisioning, the portal URL and its lock, plan and suspension."""

import logging
import zoneinfo
from functools import cache
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django_tenants.utils import schema_context

from config.celery import enqueue_on_commit
from shared_apps.plans.models import Plan
from tenant_apps.accounts.models import Role, User
from tenant_apps.audit.services import record_event
from tenants.hosts import host_for_slug
from tenants.models import Domain, Practice, ReservedSlug
from tenants.schemas import connection
from tenants.slugs import validate_slug
from tenants.tasks import refill_spare_schemas

logger = logging.getLogger(__name__)

SLUG_TAKEN_MESSAGE = "That address is already taken. Please choose another."


class PortalLockedError(ValidationError):
    def __init__(self) -> None:
        super().__init__("The portal address is locked and can no longer change.", code="locked")


def _check_slug_available(slug: str, *, practice: Practice | None) -> None:
    host = host_for_slug(slug)
    taken = Domain.objects.filter(domain=host)
    reserved = ReservedSlug.objects.filter(slug=slug)
    if practice is not None:
        taken = taken.exclude(tenant=practice)
        reserved = reserved.exclude(practice=practice)
    if taken.exists() or reserved.exists():
        raise ValidationError(SLUG_TAKEN_MESSAGE, code="taken")


@cache
def _time_zone_names() -> frozenset[str]:
    # available_timezones() walks the zone database on disk: tens of milliseconds.
    return frozenset(zoneinfo.available_timezones())


def validate_time_zone(name: str) -> str:
    if name not in _time_zone_names():
        raise ValidationError(
            f"{name!r} is not a time zone; use an IANA name such as America/New_York.",
            code="time_zone",
        )
    return name


def provision_practice(
    *,
    actor: Any,
    name: str,
    slug: str,
    owner_email: str,
    owner_name: str = "",
    plan_code: str = Plan.STARTER,
    time_zone: str = "America/New_York",
    currency: str = "USD",
) -> Practice:
    """Create a practice: its schema (cloned from the template), primary domain and owner.

    All or nothing: schema creation is transactional DDL inside the same transaction, so a
    failure at any step leaves no schema, practice row or domain behind. The owner's
    invitation is queued only after the commit.
    """
    slug = validate_slug(slug)
    validate_time_zone(time_zone)
    plan = Plan.objects.filter(code=plan_code).first()
    if plan is None:
        raise ValidationError(f"There is no plan called {plan_code!r}.", code="plan")
    assert connection.schema_name == "public"

    try:
        with transaction.atomic():
            _check_slug_available(slug, practice=None)
            practice = Practice(name=name, plan=plan, time_zone=time_zone, currency=currency)
            practice.save()
            domain = Domain.objects.create(
                domain=host_for_slug(slug), tenant=practice, is_primary=True
            )
            practice._primary_domain = domain.domain  # type: ignore[attr-defined]
            record_event(actor, "practice.provisioned", target=practice, plan=plan.code)

            with schema_context(practice.schema_name):
                owner = User.objects.create_user(
                    owner_email, full_name=owner_name or owner_email, role=Role.OWNER
                )
                from tenant_apps.accounts.services import invite_staff_member

                invite_staff_member(owner, actor=None)

            if settings.PRACTICE_SPARE_SCHEMAS:
                # This provisioning may have used a spare schema; build its successor.
                enqueue_on_commit(refill_spare_schemas)
    except IntegrityError as exc:
        # Two provisionings racing for one slug: the domain's unique index decides.
        raise ValidationError(SLUG_TAKEN_MESSAGE, code="taken") from exc

    logger.info("Provisioned practice %s in schema %s", practice.pk, practice.schema_name)
    return practice


def _lock_practice_row(practice: Practice) -> Practice:
    return Practice.objects.select_for_update().get(pk=practice.pk)


def change_portal_slug(practice: Practice, *, actor: Any, slug: str) -> Practice:
    """Change the unlocked portal address. Refused once locked."""
    slug = validate_slug(slug)
    try:
        with transaction.atomic():
            locked = _lock_practice_row(practice)
            if locked.is_portal_locked:
                raise PortalLockedError()
            _check_slug_available(slug, practice=locked)
            domain = Domain.objects.select_for_update().get(tenant=locked, is_primary=True)
            previous = domain.domain
            if previous != host_for_slug(slug):
                domain.domain = host_for_slug(slug)
                domain.save(update_fields=["domain"])
                record_event(actor, "portal.slug_changed", target=locked, slug=slug)
    except IntegrityError as exc:
        raise ValidationError(SLUG_TAKEN_MESSAGE, code="taken") from exc

    practice._primary_domain = domain.domain  # type: ignore[attr-defined]
    return practice


def lock_portal_url(practice: Practice, *, actor: Any, slug: str) -> Practice:
    """Save & Lock: save the slug, lock it for good and reserve it forever."""
    with transaction.atomic():
        change_portal_slug(practice, actor=actor, slug=slug)
        locked = _lock_practice_row(practice)
        locked.portal_locked_at = timezone.now()
        locked.save(update_fields=["portal_locked_at"])
        ReservedSlug.objects.get_or_create(slug=practice.slug, defaults={"practice": locked})
        record_event(actor, "portal.locked", target=locked, slug=practice.slug)

    practice.portal_locked_at = locked.portal_locked_at
    return practice


def unlock_portal_url(practice: Practice, *, operator: User) -> Practice:
    """Only an operator may unlock. The old slug stays reserved and keeps redirecting."""
    if not operator.is_operator:
        raise PermissionError("Only platform operators can unlock a portal address")
    with transaction.atomic():
        locked = _lock_practice_row(practice)
        locked.portal_locked_at = None
        locked.save(update_fields=["portal_locked_at"])
        record_event(operator, "portal.unlocked", target=locked, slug=practice.slug)
    practice.portal_locked_at = None
    return practice


def change_plan(practice: Practice, *, operator: User, plan: Plan) -> Practice:
    with transaction.atomic():
        practice.plan = plan
        practice.save(update_fields=["plan"])
        record_event(operator, "practice.plan_changed", target=practice, plan=plan.code)
    return practice


def set_practice_status(practice: Practice, *, operator: User, status: str) -> Practice:
    with transaction.atomic():
        practice.status = status
        practice.save(update_fields=["status"])
        record_event(operator, f"practice.{status}", target=practice)
    return practice


def update_practice_details(practice: Practice, *, actor: User, **fields: Any) -> Practice:
    """Save the portal-facing details (name, time zone, phone, address, policy)."""
    for name, value in fields.items():
        setattr(practice, name, value)
    with transaction.atomic():
        practice.save(update_fields=list(fields))
        record_event(actor, "practice.details_changed", target=practice, fields=sorted(fields))
    return practice
