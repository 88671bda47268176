"""Which practice a host name belongs to, cached so that a request costs no lookup query.

A resolution is cached under the host name in the public schema's key space, and each process
keeps its own copy of the answers for known hosts (tenants/host_memo.py), so that most requests
do not even read Redis. Any write to a practice, its domains or its reserved slugs drops the
entries of every host that practice answers to, right away and again after the transaction
commits, and waits until every process has been told; so a renamed slug stops resolving at
once and a concurrent request cannot re-cache the old answer for long.

"Unknown host" answers are cached under keys of their own, outside the key space the processes
watch: anyone can make up host names, and each one cached would otherwise be a message to
every process.
"""

import enum
import functools
import logging
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import DisallowedHost
from django.core.signals import setting_changed
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.http import HttpRequest
from django.http.request import split_domain_port

from tenants import host_memo
from tenants.models import Domain, Practice, ReservedSlug
from tenants.schemas import connection

logger = logging.getLogger(__name__)

# Bumped whenever Resolution changes shape, so that no process reads an older pickle.
CACHE_VERSION = 2


class HostKind(enum.Enum):
    PLATFORM = "platform"
    PRACTICE = "practice"
    REDIRECT = "redirect"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class Route:
    """What serving a practice host needs before any view runs, as plain values: reading
    them does not make the request's copy of the practice (see host_memo.copy_maker)."""

    schema_name: str
    time_zone: str
    suspended: bool

    @classmethod
    def of(cls, practice: Practice) -> "Route":
        return cls(practice.schema_name, practice.time_zone, practice.is_suspended)


@dataclass(frozen=True)
class Resolution:
    kind: HostKind
    practice: Practice | None = None
    # For PRACTICE: the practice's route, taken when it was resolved.
    route: Route | None = None
    # For REDIRECT: the host the practice lives at now.
    redirect_host: str = ""


def normalize_host(raw_host: str) -> str:
    """Lowercase, without port and trailing dot; empty for anything that is not a host."""
    domain, _port = split_domain_port(raw_host)
    return domain


def request_host(request: HttpRequest) -> str:
    """The request's host, normalized; DisallowedHost when ALLOWED_HOSTS does not admit it.

    The same decision as request.get_host() (which also honours X-Forwarded-Host only when
    USE_X_FORWARDED_HOST is set), remembered for each raw host a process has seen.
    """
    host = _admitted_host(request._get_raw_host())  # type: ignore[attr-defined]
    if host is None:
        raise DisallowedHost("The host is not in ALLOWED_HOSTS")
    return host


@functools.lru_cache(maxsize=1024)
def _admitted_host(raw_host: str) -> str | None:
    probe = HttpRequest()
    probe.META = {"HTTP_HOST": raw_host}
    try:
        return normalize_host(probe.get_host())
    except DisallowedHost:
        return None


@functools.cache
def _platform_domain() -> str:
    # Read on every request; a cached call costs a fraction of a settings lookup.
    return str(settings.PLATFORM_DOMAIN)


@receiver(setting_changed)
def _forget_settings_read(setting: str, **kwargs: object) -> None:
    if setting in {"ALLOWED_HOSTS", "DEBUG"}:
        _admitted_host.cache_clear()
    elif setting == "PLATFORM_DOMAIN":
        _platform_domain.cache_clear()


def _cache_key(host: str) -> str:
    return f"host:{host}"


def _unknown_cache_key(host: str) -> str:
    return f"unknown-host:{host}"


def _in_public_schema() -> bool:
    return connection.schema_name == "public"


def resolve_host(host: str) -> Resolution:
    """Resolve a normalized host name. Must be called while the connection is on public."""
    if host == _platform_domain():
        return Resolution(HostKind.PLATFORM)

    # This process's copy, under the key as Redis knows it: the prefix every host key shares
    # is the same for every host (it is the public schema's), worked out once per process.
    memo = host_memo.current()
    if memo is not None:
        memo_key = memo.prefix + host
        remembered = memo.get(memo_key)
        if remembered is not None:
            return remembered

    # From here on keys are made from the connection's schema, which must be the public one.
    assert _in_public_schema(), "host resolution reads and caches in the public schema"
    key, unknown_key = _cache_key(host), _unknown_cache_key(host)
    if memo is None:
        memo_key = cache.make_key(key, version=CACHE_VERSION)
        memo = host_memo.host_memo(memo_key.removesuffix(host))
    if memo is not None:
        generation = memo.generation_now()

    cached = cache.get_many([key, unknown_key], version=CACHE_VERSION)
    if key in cached:
        if memo is not None:
            memo.remember(memo_key, cached[key], generation=generation)
        return cached[key]
    if unknown_key in cached:
        return cached[unknown_key]

    resolution = _resolve_uncached(host)
    if resolution.kind is HostKind.UNKNOWN:
        timeout = settings.UNKNOWN_HOST_CACHE_SECONDS
        cache.set(unknown_key, resolution, timeout=timeout, version=CACHE_VERSION)
    else:
        cache.set(key, resolution, timeout=settings.HOST_CACHE_SECONDS, version=CACHE_VERSION)
    return resolution


def _resolve_uncached(host: str) -> Resolution:
    domain = Domain.objects.select_related("tenant__plan").filter(domain=host).first()
    if domain is not None:
        practice = domain.tenant
        if domain.is_primary:
            practice._primary_domain = domain.domain  # type: ignore[attr-defined]
            return Resolution(HostKind.PRACTICE, practice=practice, route=Route.of(practice))
        return Resolution(HostKind.REDIRECT, redirect_host=practice.primary_domain)

    suffix = f".{settings.PLATFORM_DOMAIN}"
    if host.endswith(suffix):
        slug = host.removesuffix(suffix)
        reserved = ReservedSlug.objects.select_related("practice").filter(slug=slug).first()
        if reserved is not None:
            return Resolution(HostKind.REDIRECT, redirect_host=reserved.practice.primary_domain)
    return Resolution(HostKind.UNKNOWN)


def practice_hosts(practice_id: int) -> set[str]:
    """Every host name that may have a cached resolution pointing at this practice."""
    suffix = settings.PLATFORM_DOMAIN
    hosts = set(Domain.objects.filter(tenant_id=practice_id).values_list("domain", flat=True))
    slugs = ReservedSlug.objects.filter(practice_id=practice_id).values_list("slug", flat=True)
    hosts.update(f"{slug}.{suffix}" for slug in slugs)
    return hosts


def forget_hosts(hosts: set[str]) -> None:
    if not hosts:
        return
    keys = [key for host in hosts for key in (_cache_key(host), _unknown_cache_key(host))]

    def delete() -> None:
        with _public_key_space():
            cache.delete_many(keys, version=CACHE_VERSION)
        if settings.HOST_MEMO:
            host_memo.barrier()

    delete()
    transaction.on_commit(delete)


class _public_key_space:
    """Cache keys carry the schema; host entries always live under the public one."""

    def __enter__(self) -> None:
        self.previous = connection.schema_name
        if self.previous != "public":
            connection.set_schema_to_public()

    def __exit__(self, *exc: object) -> None:
        if self.previous != "public":
            connection.set_schema(self.previous)


def forget_practice(practice_id: int, extra_hosts: set[str] | None = None) -> None:
    with _public_key_space():
        hosts = practice_hosts(practice_id)
    forget_hosts(hosts | (extra_hosts or set()))


def _on_practice_change(sender: type, instance: Practice, **kwargs: object) -> None:
    forget_practice(instance.pk)


def _on_domain_change(sender: type, instance: Domain, **kwargs: object) -> None:
    # The host itself (also when deleted or renamed away) and all hosts of its practice.
    previous = getattr(instance, "_loaded_domain", None)
    extra = {instance.domain} | ({previous} if previous else set())
    forget_practice(instance.tenant_id, extra_hosts=extra)


def _on_reserved_slug_change(sender: type, instance: ReservedSlug, **kwargs: object) -> None:
    forget_practice(instance.practice_id, {f"{instance.slug}.{settings.PLATFORM_DOMAIN}"})


def connect_invalidation() -> None:
    """Cache invalidation follows every write path: services, the operator console, shells."""
    for signal in (post_save, post_delete):
        signal.connect(_on_practice_change, sender=Practice, dispatch_uid="hosts-practice")
        signal.connect(_on_domain_change, sender=Domain, dispatch_uid="hosts-domain")
        signal.connect(_on_reserved_slug_change, sender=ReservedSlug, dispatch_uid="hosts-reserved")


def host_for_slug(slug: str) -> str:
    return f"{slug}.{settings.PLATFORM_DOMAIN}"


def origin_for_host(host: str) -> str:
    port = settings.PORTAL_URL_PORT
    default_port = {"http": 80, "https": 443}[settings.PORTAL_URL_SCHEME]
    suffix = f":{port}" if port and port != default_port else ""
    return f"{settings.PORTAL_URL_SCHEME}://{host}{suffix}"


def practice_url(practice: Practice, path: str = "/") -> str:
    """An absolute URL on the practice's own domain; never built from a request's Host."""
    return origin_for_host(practice.primary_domain) + path


def platform_url(path: str = "/") -> str:
    return origin_for_host(settings.PLATFORM_DOMAIN) + path
