"""PostgreSQL, Redis (cache and broker), Celery and email."""

from typing import Any

from config.settings.environment import IS_PRODUCTION, env, required

DATABASES = {
    "default": env.db("DATABASE_URL", default="postgres://postgres@127.0.0.1:5432/swasth"),
}
DATABASES["default"]["ENGINE"] = "django_tenants.postgresql_backend"
# Bounded lifetimes: each backend caches the catalog of every schema it touches.
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=300)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True

REDIS_URL: str = env.str("REDIS_URL", default="redis://127.0.0.1:6379/0")

CACHES = {
    "default": {
        "BACKEND": "config.cache.ReusedClientRedisCache",
        "LOCATION": REDIS_URL,
        # Every key carries the schema it was written from.
        "KEY_FUNCTION": "django_tenants.cache.make_key",
        "KEY_PREFIX": env.str("CACHE_KEY_PREFIX", default="swasth"),
    },
}

SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"

CELERY_BROKER_URL: str = env.str("CELERY_BROKER_URL", default=REDIS_URL)
CELERY_RESULT_BACKEND = None
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_ALWAYS_EAGER: bool = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
# Redis hands an unacknowledged task to another worker after this long, e.g. when a worker was
# killed mid-task. Short, so a lost email goes out minutes later, not an hour; longer than any
# countdown we use (email retries back off to at most 600 s), or those would run twice.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 900}
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULE: dict[str, dict[str, object]] = {}

DEFAULT_FROM_EMAIL: str = env.str("DEFAULT_FROM_EMAIL", default="Swasth <no-reply@localhost>")
SMTP_BACKEND = "django.core.mail.backends.smtp.EmailBackend"


def mailers(backend: str, *, file_path: str = "") -> dict[str, dict[str, Any]]:
    """Django's MAILERS for one default mailer, configured from the EMAIL_* environment
    variables (their names are the deployment's interface; the settings of the same names are
    deprecated in Django 6.1). A backend refuses options it does not know, so each gets its own."""
    options: dict[str, Any] = {}
    if backend == SMTP_BACKEND:
        options = {
            "host": env.str("EMAIL_HOST", default="localhost"),
            "port": env.int("EMAIL_PORT", default=25),
            "username": env.str("EMAIL_HOST_USER", default=""),
            "password": env.str("EMAIL_HOST_PASSWORD", default=""),
            "use_tls": env.bool("EMAIL_USE_TLS", default=False),
            "timeout": 30,
        }
    elif file_path:
        options = {"file_path": file_path}
    return {"default": {"BACKEND": backend, "OPTIONS": options}}


MAILERS = mailers(
    env.str(
        "EMAIL_BACKEND",
        default=SMTP_BACKEND
        if IS_PRODUCTION
        else "tenant_apps.mail.backends.ReadableConsoleBackend",
    ),
    file_path=env.str("EMAIL_FILE_PATH", default=""),
)

STRIPE_SECRET_KEY: str = env.str("STRIPE_SECRET_KEY", default="")
STRIPE_WEBHOOK_SECRET: str = env.str("STRIPE_WEBHOOK_SECRET", default="")
STRIPE_API_BASE: str = env.str("STRIPE_API_BASE", default="")

if IS_PRODUCTION:
    STRIPE_SECRET_KEY = required("STRIPE_SECRET_KEY")
    STRIPE_WEBHOOK_SECRET = required("STRIPE_WEBHOOK_SECRET")
# Appointment reminders: every 5 minutes each practice queues the reminders that have come due
# (tenant_apps/booking). A periodic scan rather than a countdown per appointment, because Redis
# redelivers countdowns longer than the broker's visibility timeout.
CELERY_BEAT_SCHEDULE["booking-appointment-reminders"] = {
    "task": "tenant_apps.booking.tasks.queue_reminders_everywhere",
    "schedule": 5 * 60,
}

# Documents shared with clients: private storage, never a public URL (tenant_apps/documents).
# "filesystem" keeps files under DOCUMENTS_ROOT; "s3" uses an S3-compatible bucket through
# django-storages, with keys under a per-practice prefix and private ACLs.
DOCUMENTS_STORAGE_KIND: str = env.str(
    "DOCUMENTS_STORAGE", default="s3" if IS_PRODUCTION else "filesystem"
)
DOCUMENTS_ROOT: str = env.str("DOCUMENTS_ROOT", default="")
DOCUMENTS_S3_BUCKET: str = env.str("DOCUMENTS_S3_BUCKET", default="")
DOCUMENTS_S3_ENDPOINT_URL: str = env.str("DOCUMENTS_S3_ENDPOINT_URL", default="")
DOCUMENTS_S3_REGION: str = env.str("DOCUMENTS_S3_REGION", default="")
DOCUMENTS_S3_ACCESS_KEY: str = env.str("DOCUMENTS_S3_ACCESS_KEY", default="")
DOCUMENTS_S3_SECRET_KEY: str = env.str("DOCUMENTS_S3_SECRET_KEY", default="")
# Answer downloads with a redirect to a signed URL (S3 only) instead of streaming the bytes.
DOCUMENTS_SIGNED_URLS: bool = env.bool("DOCUMENTS_SIGNED_URLS", default=False)
DOCUMENTS_SIGNED_URL_SECONDS = 60
DOCUMENTS_MAX_FILE_BYTES: int = env.int("DOCUMENTS_MAX_FILE_BYTES", default=25 * 1024 * 1024)
DOCUMENTS_DEFAULT_QUOTA_BYTES: int = env.int(
    "DOCUMENTS_DEFAULT_QUOTA_BYTES", default=5 * 1024 * 1024 * 1024
)

# Billing: the key that encrypts tax ids at rest (any long random string; see
# tenant_apps/billing/crypto.py), and optionally the full CMS ICD-10-CM list to validate against.
if IS_PRODUCTION:
    BILLING_FIELD_KEY: str = required("BILLING_FIELD_KEY")
else:
    BILLING_FIELD_KEY = env.str("BILLING_FIELD_KEY", default="insecure-development-billing-key")
BILLING_ICD10CM_FILE: str = env.str("BILLING_ICD10CM_FILE", default="")
# Every 15 minutes each practice checks whether its monthly statements are due (midnight of
# its chosen day, in its own zone; zones with :30 and :45 offsets included).
CELERY_BEAT_SCHEDULE["billing-monthly-statements"] = {
    "task": "tenant_apps.billing.tasks.dispatch_monthly_statements",
    "schedule": 15 * 60,
}

# Cards on file (tenant_apps/payments): the platform's publishable key for Stripe.js, used with
# the practice's connected account id, and where Stripe.js is loaded from (tests point it at a
# stand-in, since js.stripe.com is unreachable there).
STRIPE_PUBLISHABLE_KEY: str = env.str("STRIPE_PUBLISHABLE_KEY", default="")
STRIPE_JS_URL: str = env.str("STRIPE_JS_URL", default="https://js.stripe.com/v3/")

# Tops up the spare practice schemas (tenants/spares.py) if a refill after a provisioning was
# missed, and rebuilds them after `migrate_platform` dropped those of the old template.
CELERY_BEAT_SCHEDULE["tenants-refill-spare-schemas"] = {
    "task": "tenants.tasks.refill_spare_schemas",
    "schedule": 10 * 60,
}
