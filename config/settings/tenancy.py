"""Practices are PostgreSQL schemas (django-tenants); the platform itself is the public schema."""

from config.settings.environment import DEBUG, IS_PRODUCTION, env, required

# Apps whose tables live in the public schema. Apps listed in both lists (accounts, auth,
# sessions, axes, audit, mail) get a table in every schema: operators in public, each
# practice's staff and clients in that practice's schema.
SHARED_APPS = [
    "django_tenants",
    "tenants",
    "django.contrib.postgres",
    "shared_apps.plans",
    "shared_apps.pg_extensions",
    "shared_apps.payments",
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "tenant_apps.accounts",
    "tenant_apps.audit",
    "tenant_apps.mail",
    "django.contrib.sessions",
    "django.contrib.messages",
    "tenants.console.OperatorConsoleConfig",
    "django.contrib.staticfiles",
    "axes",
]

TENANT_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "tenant_apps.accounts",
    "tenant_apps.audit",
    "tenant_apps.mail",
    "django.contrib.sessions",
    "axes",
    "tenant_apps.practice",
    "tenant_apps.portal",
    "tenant_apps.clients",
    "tenant_apps.billing",
    "tenant_apps.documents",
    "tenant_apps.booking",
    "tenant_apps.intake",
    "tenant_apps.payments",
]

INSTALLED_APPS = list(SHARED_APPS) + [app for app in TENANT_APPS if app not in SHARED_APPS]

TENANT_MODEL = "tenants.Practice"
TENANT_DOMAIN_MODEL = "tenants.Domain"
# django-tenants' default, spelled out: it reads this on every switch to the public schema,
# and a missing setting costs an AttributeError each time.
PUBLIC_SCHEMA_NAME = "public"
ROOT_URLCONF = "config.urls_practice"
PUBLIC_SCHEMA_URLCONF = "config.urls_platform"
DATABASE_ROUTERS = ["django_tenants.routers.TenantSyncRouter"]
# Issue `SET search_path` once after each schema switch rather than before every cursor; every
# switch (set_tenant, set_schema) resets it, so this stays correct.
TENANT_LIMIT_SET_CALLS = True

# New practices are copied from this template schema; `migrate_platform` keeps it current
# and captures it (see tenants/template.py).
TENANT_BASE_SCHEMA = "practice_template"
# Spare schemas replayed from the template ahead of time, so that provisioning renames one
# instead of building a few hundred indexes (tenants/spares.py); a Celery task refills them.
PRACTICE_SPARE_SCHEMAS: int = env.int("PRACTICE_SPARE_SCHEMAS", default=2)

# The platform's own host; practice `sunrise` lives at `sunrise.<PLATFORM_DOMAIN>`.
# Production has no default: ALLOWED_HOSTS is built from it, and "localhost" there would
# answer no real request while looking configured.
_platform_domain = (
    required("PLATFORM_DOMAIN")
    if IS_PRODUCTION
    else env.str("PLATFORM_DOMAIN", default="localhost")
)
PLATFORM_DOMAIN: str = _platform_domain.lower().rstrip(".")
# How links in emails reach a practice: scheme and (for development) a port.
PORTAL_URL_SCHEME: str = env.str("PORTAL_URL_SCHEME", default="https" if IS_PRODUCTION else "http")
PORTAL_URL_PORT: int | None = env.int("PORTAL_URL_PORT", default=None if IS_PRODUCTION else 8000)

ALLOWED_HOSTS = [PLATFORM_DOMAIN, f".{PLATFORM_DOMAIN}"]
if DEBUG or not IS_PRODUCTION:
    ALLOWED_HOSTS += ["testserver", "127.0.0.1"]

# Trust X-Forwarded-Host only behind a proxy that sets it (Django's own setting).
USE_X_FORWARDED_HOST: bool = env.bool("USE_X_FORWARDED_HOST", default=False)

# How long a host-to-practice resolution stays cached. Writes to practices and domains
# invalidate it at once; the timeout only bounds memory for hosts nobody asks for.
HOST_CACHE_SECONDS = 3600
UNKNOWN_HOST_CACHE_SECONDS = 60
# Each process also keeps resolutions itself, dropped the moment Redis pushes a change
# (tenants/host_memo.py; needs CLIENT TRACKING, Redis 6 or later). Off: one Redis read per request.
HOST_MEMO: bool = env.bool("HOST_MEMO", default=True)
