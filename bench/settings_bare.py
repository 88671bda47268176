"""The bare server of bench/http.py: the project's settings without the host middleware.

Everything else (the rest of the middleware, database, cache, sessions) stays as configured, so
the difference to the practice server is the cost of resolving the practice.
"""

from config.settings import *  # noqa: F403
from config.settings import MIDDLEWARE

MIDDLEWARE = [m for m in MIDDLEWARE if m != "tenants.middleware.PracticeHostMiddleware"]
ROOT_URLCONF = "bench.urls_bare"
