"""The portal address: editable until Save & Lock, then fixed; old locked slugs redirect."""

import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, connections, transaction

from tenant_apps.audit.models import AuditEvent
from tenants.hosts import HostKind, resolve_host
from tenants.models import Domain, Practice, ReservedSlug
from tenants.services import (
    SLUG_TAKEN_MESSAGE,
    PortalLockedError,
    change_portal_slug,
    lock_portal_url,
    unlock_portal_url,
)
from tests.conftest import host_client


@pytest.fixture
def operator(db):
    from tenant_apps.accounts.models import User

    return User.objects.create_superuser("ops@platform.test", "x" * 16, full_name="Ops")


def test_it_changes_the_slug_while_unlocked(sunrise, alice):
    change_portal_slug(sunrise, actor=alice, slug="Sunrise-Care")
    assert sunrise.slug == "sunrise-care"
    assert Domain.objects.get(tenant=sunrise).domain == "sunrise-care.localhost"


def test_it_refuses_a_slug_another_practice_uses_regardless_of_case(sunrise, alice):
    with pytest.raises(ValidationError) as caught:
        change_portal_slug(sunrise, actor=alice, slug="HARBOR")
    assert caught.value.messages == [SLUG_TAKEN_MESSAGE]


def test_it_locks_and_reserves_the_slug(sunrise, alice):
    lock_portal_url(sunrise, actor=alice, slug="sunrise")
    sunrise.refresh_from_db()
    assert sunrise.is_portal_locked
    assert ReservedSlug.objects.get(slug="sunrise").practice == sunrise
    with connection.cursor():
        pass
    assert AuditEvent.objects.filter(action="portal.locked").exists()


def test_a_locked_slug_cannot_change_through_the_service(sunrise, alice):
    lock_portal_url(sunrise, actor=alice, slug="sunrise")
    with pytest.raises(PortalLockedError):
        change_portal_slug(sunrise, actor=alice, slug="elsewhere")
    with pytest.raises(PortalLockedError):
        lock_portal_url(sunrise, actor=alice, slug="elsewhere")
    assert Domain.objects.get(tenant=sunrise).domain == "sunrise.localhost"


def test_a_locked_slug_cannot_change_in_the_database(sunrise, alice):
    lock_portal_url(sunrise, actor=alice, slug="sunrise")
    domain = Domain.objects.get(tenant=sunrise)
    domain.domain = "renamed.localhost"
    with pytest.raises(IntegrityError), transaction.atomic():
        domain.save()
    with pytest.raises(IntegrityError), transaction.atomic():
        Domain.objects.filter(tenant=sunrise).update(domain="renamed.localhost")
    with pytest.raises(IntegrityError), transaction.atomic():
        Domain.objects.create(domain="second.localhost", tenant=sunrise, is_primary=False)
    with pytest.raises(IntegrityError), transaction.atomic():
        Domain.objects.filter(tenant=sunrise).delete()


def test_the_schema_name_cannot_change_in_the_database(sunrise):
    with pytest.raises(IntegrityError), transaction.atomic():
        Practice.objects.filter(pk=sunrise.pk).update(schema_name="p_0000000000000000")


def test_only_an_operator_can_unlock_and_it_is_audited(sunrise, alice, operator):
    lock_portal_url(sunrise, actor=alice, slug="sunrise")
    with pytest.raises(PermissionError):
        unlock_portal_url(sunrise, operator=alice)
    unlock_portal_url(sunrise, operator=operator)
    sunrise.refresh_from_db()
    assert not sunrise.is_portal_locked
    event = AuditEvent.objects.get(action="portal.unlocked")
    assert event.actor_id == operator.pk and event.object_id == str(sunrise.pk)


def test_a_once_locked_slug_stays_reserved_and_redirects_permanently(
    sunrise, harbor, alice, hana, operator
):
    lock_portal_url(sunrise, actor=alice, slug="sunrise")
    unlock_portal_url(sunrise, operator=operator)
    change_portal_slug(sunrise, actor=alice, slug="sunrise-care")

    response = host_client("sunrise.localhost:8000").get("/practice/sign-in/?next=/x")
    assert response.status_code == 301
    assert response["Location"] == "http://sunrise-care.localhost:8000/practice/sign-in/?next=/x"
    assert resolve_host("sunrise.localhost").kind is HostKind.REDIRECT

    with pytest.raises(ValidationError):
        change_portal_slug(harbor, actor=hana, slug="sunrise")


def test_the_redirect_follows_the_practice_when_it_moves_again(sunrise, alice, operator):
    lock_portal_url(sunrise, actor=alice, slug="sunrise")
    unlock_portal_url(sunrise, operator=operator)
    change_portal_slug(sunrise, actor=alice, slug="sunrise-care")
    host_client("sunrise.localhost").get("/")  # caches the redirect
    change_portal_slug(sunrise, actor=alice, slug="sunrise-two")
    response = host_client("sunrise.localhost").get("/")
    assert response["Location"] == "http://sunrise-two.localhost:8000/"


def test_the_practice_may_return_to_its_own_reserved_slug(sunrise, alice, operator):
    lock_portal_url(sunrise, actor=alice, slug="sunrise")
    unlock_portal_url(sunrise, operator=operator)
    change_portal_slug(sunrise, actor=alice, slug="sunrise-care")
    change_portal_slug(sunrise, actor=alice, slug="sunrise")
    assert host_client("sunrise.localhost").get("/").status_code == 200


def _claim_in_own_connection(practice_pk, slug, barrier, results):
    """Claim `slug` for a practice on a fresh database connection of this thread."""
    from tenants.services import change_portal_slug as claim

    try:
        practice = Practice.objects.get(pk=practice_pk)
        barrier.wait(timeout=10)
        claim(practice, actor=None, slug=slug)
        results.append(("won", practice_pk))
    except ValidationError as error:
        results.append(("lost", error.messages[0]))
    finally:
        connections.close_all()


def test_two_practices_claiming_one_slug_at_once_exactly_one_wins(
    django_db_setup, django_db_blocker
):
    from tests.practices import drop_practice, provision_test_practice

    with django_db_blocker.unblock():
        first = provision_test_practice("Race One", "race-one", "starter", "UTC", ())
        second = provision_test_practice("Race Two", "race-two", "starter", "UTC", ())
        try:
            results: list[tuple[str, object]] = []
            barrier = threading.Barrier(2)
            threads = [
                threading.Thread(
                    target=_claim_in_own_connection, args=(p.pk, "contested", barrier, results)
                )
                for p in (first, second)
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=30)

            outcomes = sorted(outcome for outcome, _ in results)
            assert outcomes == ["lost", "won"]
            assert ("lost", SLUG_TAKEN_MESSAGE) in results
            assert Domain.objects.filter(domain="contested.localhost").count() == 1
        finally:
            drop_practice(first)
            drop_practice(second)
