"""Host resolution: case, trailing dot, port, unknown hosts, forwarded hosts, caching."""

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tenants.hosts import HostKind, normalize_host, resolve_host
from tenants.services import change_portal_slug
from tests.conftest import host_client


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("sunrise.localhost", "sunrise.localhost"),
        ("SUNRISE.LocalHost", "sunrise.localhost"),
        ("sunrise.localhost.", "sunrise.localhost"),
        ("sunrise.localhost:8000", "sunrise.localhost"),
        ("Sunrise.Localhost.:443", "sunrise.localhost"),
        ("bad host", ""),
    ],
)
def test_it_normalizes_hosts(raw, expected):
    assert normalize_host(raw) == expected


@pytest.mark.parametrize(
    "host",
    ["sunrise.localhost", "SUNRISE.localhost", "sunrise.localhost.", "sunrise.localhost:8000"],
)
def test_it_serves_the_practice_whatever_the_case_dot_or_port(sunrise, host):
    response = host_client(host).get("/")
    assert response.status_code == 200
    assert b"Sunrise Therapy" in response.content


def test_it_answers_an_unknown_subdomain_with_the_platform_404_page(db):
    response = host_client("nobody-here.localhost").get("/practice/")
    assert response.status_code == 404
    assert b"We couldn't find that portal" in response.content
    assert b"Sunrise" not in response.content and b"Harbor" not in response.content


def test_it_rejects_hosts_outside_the_platform(db):
    response = host_client("sunrise.evil.example").get("/")
    assert response.status_code == 400


def test_it_follows_a_change_to_allowed_hosts_at_once(sunrise, settings):
    assert host_client("sunrise.localhost").get("/").status_code == 200

    settings.ALLOWED_HOSTS = ["localhost"]

    assert host_client("sunrise.localhost").get("/").status_code == 400


def test_it_follows_a_change_to_the_platform_domain_at_once(db, settings):
    assert resolve_host("clinics.example").kind is HostKind.UNKNOWN

    settings.PLATFORM_DOMAIN = "clinics.example"

    assert resolve_host("clinics.example").kind is HostKind.PLATFORM


def test_it_serves_the_platform_on_the_platform_host(platform_client):
    response = platform_client.get("/")
    assert response.status_code == 200
    assert b"operator console" in response.content


def test_it_ignores_x_forwarded_host_unless_told_to_trust_it(sunrise, harbor):
    browser = host_client("sunrise.localhost")
    response = browser.get("/", HTTP_X_FORWARDED_HOST="harbor.localhost")
    assert b"Sunrise Therapy" in response.content
    assert b"Harbor" not in response.content


def test_it_uses_x_forwarded_host_when_the_setting_trusts_it(sunrise, harbor, settings):
    settings.USE_X_FORWARDED_HOST = True
    browser = host_client("internal-proxy.localhost")
    response = browser.get("/", HTTP_X_FORWARDED_HOST="harbor.localhost")
    assert b"Harbor Counseling" in response.content


def test_it_resolves_a_cached_host_with_zero_queries(sunrise):
    resolve_host("sunrise.localhost")  # fills the cache
    with CaptureQueriesContext(connection) as queries:
        resolution = resolve_host("sunrise.localhost")
    assert len(queries) == 0
    assert resolution.kind is HostKind.PRACTICE
    assert resolution.practice.schema_name == sunrise.schema_name


def test_it_serves_a_trivial_portal_request_without_a_lookup_query(sunrise):
    browser = host_client("sunrise.localhost")
    browser.get("/")  # warm the cache
    with CaptureQueriesContext(connection) as queries:
        response = browser.get("/")
    assert response.status_code == 200
    assert not [q for q in queries if "tenants_domain" in q["sql"]]
    assert len(queries) == 0


def test_it_stops_resolving_a_renamed_slug_at_once(sunrise, alice):
    assert resolve_host("sunrise.localhost").kind is HostKind.PRACTICE
    change_portal_slug(sunrise, actor=alice, slug="sunrise-care")
    assert resolve_host("sunrise.localhost").kind is HostKind.UNKNOWN
    assert resolve_host("sunrise-care.localhost").practice.pk == sunrise.pk


def test_it_drops_a_cached_unknown_answer_when_the_host_is_claimed(sunrise, alice):
    assert resolve_host("dawn.localhost").kind is HostKind.UNKNOWN
    change_portal_slug(sunrise, actor=alice, slug="dawn")
    assert resolve_host("dawn.localhost").kind is HostKind.PRACTICE


def test_its_cache_keys_carry_the_schema(sunrise):
    resolve_host("sunrise.localhost")
    keys = list(cache._cache.get_client().scan_iter("*host:sunrise.localhost"))
    assert keys and all(key.decode().startswith("public:") for key in keys)
