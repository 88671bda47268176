"""The one place that reads the process environment.

`django-environ` gives typed readers that fail loudly: a missing required variable stops the
process with `ImproperlyConfigured` naming it.
"""

from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()
_dotenv = BASE_DIR / ".env"
if _dotenv.exists():
    environ.Env.read_env(_dotenv)

DEBUG: bool = env.bool("DJANGO_DEBUG", default=False)
# "production" turns on the checks that refuse to start with an unsafe configuration.
ENVIRONMENT: str = env.str("DJANGO_ENV", default="development")
IS_PRODUCTION = ENVIRONMENT == "production"
