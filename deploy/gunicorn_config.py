"""gunicorn settings for the web container (deploy/Dockerfile) and deploy/smoke.sh.

Command-line options override these; the environment tunes the rest.
"""

import logging
import os
from typing import Any

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
# Two to four workers per core is gunicorn's own advice; each holds one database connection.
workers = int(os.environ.get("WEB_CONCURRENCY", "3"))
threads = 1
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))
graceful_timeout = 30
# Recycle workers now and then: each PostgreSQL backend caches the catalog of every practice
# schema it has touched, and so does each worker's Python process.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "2000"))
max_requests_jitter = 200
# The reverse proxy sets X-Forwarded-Proto; trust it only from the proxy's network.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")

# No access log here: gunicorn writes it outside the request, where the practice is unknown.
# Django writes one JSON line per request instead, with the schema (tenants/access_log.py).
accesslog = None
errorlog = "-"


class _PlatformSchema(logging.Filter):
    """gunicorn's own records (starting, booting and stopping workers) belong to no practice;
    they carry the public schema, like the platform's other records."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.schema_name = "public"
        return True


# gunicorn's own logger writes the same JSON lines as the application (config/settings/logs.py).
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "root": {"level": "INFO", "handlers": ["console"]},
    "filters": {"platform": {"()": _PlatformSchema}},
    "formatters": {
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(schema_name)s %(name)s %(message)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "json",
            "filters": ["platform"],
            "stream": "ext://sys.stderr",
        },
    },
    "loggers": {
        "gunicorn.error": {"level": "INFO", "handlers": ["console"], "propagate": False},
        # A logging configuration turns gunicorn's access records on; nobody wants them.
        "gunicorn.access": {"level": "CRITICAL", "handlers": [], "propagate": False},
    },
}


def post_worker_init(worker: Any) -> None:
    """Warm the PDF renderer once the worker has loaded Django and before it takes requests:
    otherwise the first billing PDF a worker renders also pays for importing WeasyPrint and
    loading its fonts, about a second. Costs each worker some 30 MB."""
    from tenant_apps.billing.documents import warm_up

    try:
        warm_up()
    except Exception:
        # A broken renderer must not keep the worker from serving everything else; the
        # PDF views will fail, and log, on their own.
        worker.log.exception("Warming up the PDF renderer failed")
