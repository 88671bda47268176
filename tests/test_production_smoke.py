"""The production smoke test: deploy/smoke.sh runs what the container image runs.

It starts gunicorn with production settings, a Celery worker and Celery beat on this machine's
PostgreSQL and Redis (a database of its own, created and dropped by the script), provisions a
practice, and checks the platform's /health/ and the practice's portal. Missing secrets are
covered by tests/test_production_settings.py; the script checks DJANGO_SECRET_KEY again on the
way in.
"""

import os
import signal
import subprocess
from urllib.parse import quote

import pytest
from django.conf import settings

from tests.test_production_settings import ROOT

pytestmark = pytest.mark.smoke

SCRIPT = ROOT / "deploy" / "smoke.sh"
# Bounds, not expectations: on a loaded two-core machine the run takes well under this.
TIMEOUT_SECONDS = 180
STOP_SECONDS = 30


def _smoke_database_url() -> str:
    """A database beside this run's, on the same server, for the script to create and drop."""
    db = settings.DATABASES["default"]
    user = quote(str(db.get("USER") or ""), safe="")
    password = quote(str(db.get("PASSWORD") or ""), safe="")
    credentials = f"{user}:{password}@" if password else f"{user}@" if user else ""
    host = db.get("HOST") or "127.0.0.1"
    port = db.get("PORT") or 5432
    name = f"{db['NAME']}_smoke"
    return f"postgres://{credentials}{host}:{port}/{quote(name, safe='')}"


def test_the_production_stack_serves_health_and_a_practice_portal():
    broker = os.environ.get("CELERY_BROKER_URL") or settings.CELERY_BROKER_URL
    # Nothing of this test process's Django configuration (the browser tests, for one, set
    # DJANGO_ALLOW_ASYNC_UNSAFE) reaches the production processes.
    inherited = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "STRIPE_"))}
    env = {
        **inherited,
        "SMOKE_DATABASE_URL": _smoke_database_url(),
        "SMOKE_REDIS_URL": settings.REDIS_URL,
        # This run's test broker: its own Redis database, so that only the script's worker
        # can answer the health endpoint's ping.
        "SMOKE_BROKER_URL": broker,
    }
    process = subprocess.Popen(
        ["bash", str(SCRIPT)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        output, _ = process.communicate(timeout=TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        # SIGTERM lets the script's trap stop gunicorn and Celery and drop its database.
        os.killpg(process.pid, signal.SIGTERM)
        try:
            output, _ = process.communicate(timeout=STOP_SECONDS)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            output, _ = process.communicate()
        pytest.fail(f"deploy/smoke.sh did not finish in {TIMEOUT_SECONDS} s:\n{output}")

    assert process.returncode == 0, output
    assert '"celery": "ok"' in output
    assert "smoke: OK" in output
