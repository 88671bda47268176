"""The health endpoint: platform host only, every dependency probed, nothing private shown.

The real database, Redis and document storage answer these probes. No Celery worker runs
during these tests, so the worker's answer to a ping is stood in for here; the production smoke
test (tests/test_production_smoke.py) gets a 200 from a real worker.
"""

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.test import Client, override_settings

from tenants import health
from tenants.models import Practice

pytestmark = pytest.mark.django_db


@pytest.fixture
def worker_answers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        health.celery_app.control, "ping", lambda **options: [{"worker@host": {"ok": "pong"}}]
    )


@pytest.fixture
def no_worker_answers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(health.celery_app.control, "ping", lambda **options: [])


@pytest.fixture
def documents_root(tmp_path: Path) -> Iterator[Path]:
    root = tmp_path / "documents"
    with override_settings(DOCUMENTS_STORAGE_KIND="filesystem", DOCUMENTS_ROOT=str(root)):
        yield root


def test_it_answers_200_when_everything_is_up(platform_client, worker_answers, documents_root):
    response = platform_client.get("/health/")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert "no-cache" in response["Cache-Control"]
    assert response.json() == {
        "status": "ok",
        "checks": {
            "database": "ok",
            "cache": "ok",
            "broker": "ok",
            "celery": "ok",
            "storage": "ok",
        },
    }


def test_it_leaves_no_probe_file_behind(platform_client, worker_answers, documents_root):
    platform_client.get("/health/")

    assert not any(path.is_file() for path in documents_root.rglob("*"))


def test_it_answers_503_when_no_worker_answers(platform_client, no_worker_answers, documents_root):
    response = platform_client.get("/health/")

    assert response.status_code == 503
    assert response.json()["status"] == "failing"
    assert response.json()["checks"]["celery"] == "failing"
    assert response.json()["checks"]["database"] == "ok"


def test_it_answers_503_when_redis_is_unreachable(platform_client, worker_answers, documents_root):
    unreachable = "redis://127.0.0.1:1/0"
    dead_cache = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": unreachable,
        }
    }
    with override_settings(CACHES=dead_cache, CELERY_BROKER_URL=unreachable):
        response = platform_client.get("/health/")

    assert response.status_code == 503
    checks = response.json()["checks"]
    assert checks["cache"] == "failing"
    assert checks["broker"] == "failing"
    assert checks["database"] == "ok"
    # Failure words only: no address of what failed.
    assert "127.0.0.1" not in response.content.decode()
    assert "redis://" not in response.content.decode()


def test_it_answers_503_when_documents_storage_is_not_writable(
    platform_client, worker_answers, tmp_path
):
    a_file = tmp_path / "not-a-directory"
    a_file.write_bytes(b"")
    with override_settings(DOCUMENTS_STORAGE_KIND="filesystem", DOCUMENTS_ROOT=str(a_file)):
        response = platform_client.get("/health/")

    assert response.status_code == 503
    assert response.json()["checks"]["storage"] == "failing"


def test_it_names_no_practice_and_no_secret(
    platform_client, worker_answers, documents_root, sunrise, harbor, settings
):
    body = platform_client.get("/health/").content.decode()

    for practice in Practice.objects.all():
        assert practice.schema_name not in body
        assert practice.name not in body
    assert settings.SECRET_KEY not in body
    assert set(json.loads(body)) == {"status", "checks"}


def test_it_is_not_served_on_a_practice_host(sunrise_client, harbor_client, worker_answers):
    assert sunrise_client.get("/health/").status_code == 404
    assert harbor_client.get("/health/").status_code == 404


def test_it_accepts_only_get(platform_client: Client) -> None:
    assert platform_client.post("/health/").status_code == 405
