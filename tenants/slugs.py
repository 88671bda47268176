"""Portal URL slugs: DNS-label rules plus words the platform keeps for itself."""

import re

from django.core.exceptions import ValidationError

MIN_LENGTH = 3
MAX_LENGTH = 40

RESERVED_WORDS = frozenset(
    {
        "about",
        "account",
        "accounts",
        "admin",
        "api",
        "app",
        "assets",
        "auth",
        "billing",
        "blog",
        "cdn",
        "dashboard",
        "demo",
        "dev",
        "docs",
        "email",
        "ftp",
        "help",
        "imap",
        "localhost",
        "login",
        "mail",
        "media",
        "mx",
        "ns1",
        "ns2",
        "operator",
        "pay",
        "payments",
        "pop",
        "portal",
        "practice",
        "root",
        "signup",
        "smtp",
        "staging",
        "static",
        "status",
        "stripe",
        "support",
        "swasth",
        "test",
        "webhooks",
        "webmail",
        "www",
    }
)

_SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


def normalize_slug(value: str) -> str:
    return value.strip().lower()


def validate_slug(value: str) -> str:
    """Return the normalized slug or raise ValidationError with a message for the practice."""
    slug = normalize_slug(value)
    if not MIN_LENGTH <= len(slug) <= MAX_LENGTH:
        raise ValidationError(
            f"Use between {MIN_LENGTH} and {MAX_LENGTH} characters.", code="length"
        )
    if not _SLUG_RE.match(slug):
        raise ValidationError(
            "Use lowercase letters, digits and single hyphens, starting and ending with a "
            "letter or digit.",
            code="format",
        )
    if slug in RESERVED_WORDS:
        raise ValidationError(f"“{slug}” is reserved by the platform.", code="reserved")
    return slug
