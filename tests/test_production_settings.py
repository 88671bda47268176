"""Production settings refuse to start without their secrets and the platform domain (which
ALLOWED_HOSTS is built from), naming what is missing or left empty."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PRODUCTION_ENV = {
    "DJANGO_ENV": "production",
    "DJANGO_SECRET_KEY": "a-long-random-production-secret-for-this-test-only",
    "STRIPE_SECRET_KEY": "sk_test_example",
    "STRIPE_WEBHOOK_SECRET": "whsec_example",
    "BILLING_FIELD_KEY": "a-long-random-billing-key-for-this-test-only",
    "PLATFORM_DOMAIN": "swasth.example",
}
REQUIRED = [
    "DJANGO_SECRET_KEY",
    "PLATFORM_DOMAIN",
    "STRIPE_SECRET_KEY",
    "STRIPE_WEBHOOK_SECRET",
    "BILLING_FIELD_KEY",
]


def _load_settings(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "STRIPE_")) and k not in REQUIRED
    }
    return subprocess.run(
        [sys.executable, "-c", "from django.conf import settings; print(settings.ALLOWED_HOSTS)"],
        env={**clean, "DJANGO_SETTINGS_MODULE": "config.settings", **env},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_production_settings_load_with_every_secret():
    result = _load_settings(PRODUCTION_ENV)
    assert result.returncode == 0, result.stderr
    assert "['swasth.example', '.swasth.example']" in result.stdout


@pytest.mark.parametrize("missing", REQUIRED)
def test_production_refuses_to_start_without(missing):
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != missing}
    result = _load_settings(env)
    assert result.returncode != 0
    assert f"Set the {missing} environment variable" in result.stderr


# deploy/env.example leaves the secrets empty: a copy that was not filled in must not start.
@pytest.mark.parametrize("blank", REQUIRED)
@pytest.mark.parametrize("value", ["", "  "])
def test_production_refuses_to_start_with_an_empty(blank, value):
    result = _load_settings({**PRODUCTION_ENV, blank: value})
    assert result.returncode != 0
    assert f"Set the {blank} environment variable: it is empty" in result.stderr
