"""The one place that reads the process environment.

`django-environ` gives typed readers that fail loudly: a missing required variable stops the
process with `ImproperlyConfigured` naming it.
"""

from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()
_dotenv = BASE_DIR / ".env"
if _dotenv.exists():
    environ.Env.read_env(_dotenv)

DEBUG: bool = env.bool("DJANGO_DEBUG", default=False)
# "production" turns on the checks that refuse to start with an unsafe configuration.
ENVIRONMENT: str = env.str("DJANGO_ENV", default="development")
IS_PRODUCTION = ENVIRONMENT == "production"


def required(name: str) -> str:
    """A variable production cannot run without. Missing or blank, it stops the process with
    an error naming it: `deploy/env.example` lists the secrets with empty values, and an
    empty Stripe key or encryption key must not pass for a configured one."""
    value = env.str(name)  # missing: ImproperlyConfigured("Set the <name> environment variable")
    if not value.strip():
        raise ImproperlyConfigured(f"Set the {name} environment variable: it is empty")
    return value
