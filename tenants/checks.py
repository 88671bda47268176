"""System checks for deployment mistakes that would otherwise surface as data leaks or 500s."""

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, Warning, register

# Apps whose tables must exist only in the public schema.
PUBLIC_ONLY_APPS = {"django_tenants", "tenants", "shared_apps.plans"}


@register(Tags.compatibility)
def check_tenancy(app_configs: Any, **kwargs: Any) -> list[CheckMessage]:
    problems: list[CheckMessage] = []
    misplaced = PUBLIC_ONLY_APPS & set(settings.TENANT_APPS)
    if misplaced:
        problems.append(
            Error(
                f"Public-schema apps are listed in TENANT_APPS: {sorted(misplaced)}",
                hint="Practices, domains and plans live in the public schema only.",
                id="swasth.E001",
            )
        )
    if settings.TIME_ZONE != "UTC" or not settings.USE_TZ:
        problems.append(
            Error(
                "TIME_ZONE must be 'UTC' with USE_TZ = True.",
                hint="Times are stored in UTC and shown in each practice's own zone.",
                id="swasth.E002",
            )
        )
    cache_key_function = settings.CACHES["default"].get("KEY_FUNCTION")
    if cache_key_function != "django_tenants.cache.make_key":
        problems.append(
            Error(
                "The default cache must prefix every key with the schema name.",
                hint="Set CACHES['default']['KEY_FUNCTION'] = 'django_tenants.cache.make_key'.",
                id="swasth.E003",
            )
        )
    if settings.SESSION_COOKIE_DOMAIN or settings.CSRF_COOKIE_DOMAIN:
        problems.append(
            Error(
                "Session and CSRF cookies must be host-only.",
                hint="A parent-domain cookie would be sent to every practice's host.",
                id="swasth.E004",
            )
        )
    return problems


@register(Tags.security, deploy=True)
def check_production_secrets(app_configs: Any, **kwargs: Any) -> list[CheckMessage]:
    problems: list[CheckMessage] = []
    for name in ("STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET"):
        if not getattr(settings, name, ""):
            problems.append(
                Warning(f"{name} is not set; card payments will not work.", id="swasth.W001")
            )
    return problems
