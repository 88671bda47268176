"""Logging: the practice schema on every record, ids only, never health information.

Production writes one JSON object per line (LOG_FORMAT=json, the default when DJANGO_ENV is
production); development writes plain lines. Either way every record carries `schema_name`.
"""

import logging

from pythonjsonlogger.core import RESERVED_ATTRS

from config.settings.environment import IS_PRODUCTION, env

LOG_LEVEL: str = env.str("LOG_LEVEL", default="INFO")
LOG_FORMAT: str = env.str("LOG_FORMAT", default="json" if IS_PRODUCTION else "plain")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "tenant_context": {"()": "tenants.log_context.PracticeContextFilter"},
    },
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s [%(schema_name)s] %(name)s: %(message)s"},
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(schema_name)s %(name)s %(message)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
            # Django's request and server loggers attach the request (or its socket) as an
            # extra; its repr carries the query string, which may hold what a person typed.
            # The message already names the method, path and status, and paths carry ids only.
            "reserved_attrs": [*RESERVED_ATTRS, "request"],
        },
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["tenant_context"],
            "formatter": "json" if LOG_FORMAT == "json" else "plain",
        },
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        "axes": {"level": "WARNING"},
    },
}

# Python's warnings (a library's SecurityWarning at start-up, say) become records of the
# `py.warnings` logger, so they too are one JSON line with a schema instead of raw text.
logging.captureWarnings(True)
