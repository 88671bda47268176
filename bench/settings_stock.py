"""The stock django-tenants server of bench/http.py.

django-tenants' TenantMainMiddleware takes the place of ours: it looks the host's Domain row
(and its tenant) up in the database on every request. It reads TENANT_MODEL and
TENANT_DOMAIN_MODEL, so it serves the same practices from the same database. The rest of the
middleware, the database settings (CONN_MAX_AGE, health checks) and the session engine are the
project's own.
"""

from pathlib import Path
from typing import cast

from config.settings import *  # noqa: F403
from config.settings import BASE_DIR, MIDDLEWARE, TEMPLATES

MIDDLEWARE = [
    "django_tenants.middleware.main.TenantMainMiddleware",
    *[m for m in MIDDLEWARE if m != "tenants.middleware.PracticeHostMiddleware"],
]
ROOT_URLCONF = "bench.urls_stock"

_template_dirs = cast(list[Path], TEMPLATES[0]["DIRS"])
TEMPLATES = [
    {**TEMPLATES[0], "DIRS": [*_template_dirs, BASE_DIR / "bench" / "templates"]},
    *TEMPLATES[1:],
]
