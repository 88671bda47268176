"""The platform's health endpoint: can this deployment serve practices right now?

Served on the platform host only (config/urls_platform.py), for a load balancer or uptime
monitor. Each probe answers "ok" or a fixed, generic failure word; the reason goes to the log,
never to the response, so the output carries no connection strings, hosts, schema names or
practice data. 200 when every probe passes, 503 otherwise.
"""

import logging
import uuid
from collections.abc import Callable

import redis
from django.conf import settings
from django.core.cache import cache
from django.core.files.base import ContentFile
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from config.celery import app as celery_app
from tenant_apps.documents.storage import document_storage

logger = logging.getLogger(__name__)

# Bounds for the network probes, so a dead dependency answers 503 quickly instead of hanging
# the monitor. A worker busy with a long task still answers a ping from its control thread.
REDIS_TIMEOUT_SECONDS = 2.0
CELERY_PING_TIMEOUT_SECONDS = 2.0
# Probe files go under a prefix no practice key can have (practice keys start with a schema).
STORAGE_PROBE_PREFIX = "_health"


class ProbeFailed(Exception):
    """A dependency answered, but not as expected."""


def check_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        if cursor.fetchone() != (1,):
            raise ProbeFailed("SELECT 1 returned something else")


def check_cache() -> None:
    key = f"health-probe-{uuid.uuid4().hex}"
    cache.set(key, "1", timeout=10)
    try:
        if cache.get(key) != "1":
            raise ProbeFailed("the cache did not return what was written")
    finally:
        cache.delete(key)


def check_broker() -> None:
    client = redis.Redis.from_url(
        settings.CELERY_BROKER_URL,
        socket_timeout=REDIS_TIMEOUT_SECONDS,
        socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
    )
    try:
        if not client.ping():
            raise ProbeFailed("the broker did not answer PING")
    finally:
        client.close()


def check_celery() -> None:
    # limit=1: return as soon as one worker answers rather than waiting out the timeout.
    replies = celery_app.control.ping(timeout=CELERY_PING_TIMEOUT_SECONDS, limit=1)
    if not replies:
        raise ProbeFailed("no Celery worker answered a ping")


def check_storage() -> None:
    storage = document_storage()
    name = storage.save(f"{STORAGE_PROBE_PREFIX}/{uuid.uuid4().hex}", ContentFile(b"ok"))
    try:
        with storage.open(name) as probe:
            if probe.read() != b"ok":
                raise ProbeFailed("the storage returned other bytes than were written")
    finally:
        storage.delete(name)


PROBES: dict[str, Callable[[], None]] = {
    "database": check_database,
    "cache": check_cache,
    "broker": check_broker,
    "celery": check_celery,
    "storage": check_storage,
}


def run_probes() -> dict[str, str]:
    """Run every probe; map its name to "ok" or "failing"."""
    results: dict[str, str] = {}
    for name, probe in PROBES.items():
        try:
            probe()
        except Exception:
            # Logged with the traceback for the operator; the response says only "failing".
            logger.warning("Health probe %s failed", name, exc_info=True)
            results[name] = "failing"
        else:
            results[name] = "ok"
    return results


@never_cache
@require_GET
def health(request: HttpRequest) -> JsonResponse:
    checks = run_probes()
    healthy = all(result == "ok" for result in checks.values())
    return JsonResponse(
        {"status": "ok" if healthy else "failing", "checks": checks},
        status=200 if healthy else 503,
    )
