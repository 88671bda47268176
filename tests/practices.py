"""Provisioning helpers for tests (not fixtures, so scripts and fixtures can share them)."""

from collections.abc import Iterable

from django.db import connection, transaction
from django_tenants.utils import schema_context

from tenant_apps.accounts.models import User
from tenants.models import Practice
from tenants.services import provision_practice
from tests.personas import PASSWORD, Persona


def provision_test_practice(
    name: str, slug: str, plan: str, time_zone: str, people: Iterable[Persona]
) -> Practice:
    people = tuple(people)
    owner_email = people[0].email if people else f"owner@{slug}.test"
    practice = provision_practice(
        actor=None,
        name=name,
        slug=slug,
        owner_email=owner_email,
        owner_name=people[0].full_name if people else "Owner",
        plan_code=plan,
        time_zone=time_zone,
    )
    with schema_context(practice.schema_name):
        for person in people:
            user = User.objects.filter(email=person.email).first()
            if user is None:
                user = User.objects.create_user(
                    person.email, full_name=person.full_name, role=person.role
                )
            user.set_password(PASSWORD)
            user.save(update_fields=["password"])
    return practice


def drop_practice(practice: Practice) -> None:
    """Remove a committed practice, its domains, reserved slugs and schema."""
    with transaction.atomic():
        Practice.objects.filter(pk=practice.pk).update(portal_locked_at=None)
        with connection.cursor() as cursor:
            cursor.execute(f'DROP SCHEMA IF EXISTS "{practice.schema_name}" CASCADE')
        Practice.objects.filter(pk=practice.pk).delete()
