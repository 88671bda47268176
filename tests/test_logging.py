"""Production logs: one JSON object per line, the practice schema on each, ids and no names."""

import copy
import io
import json
import logging
import logging.config
import os
import subprocess
import sys
from collections.abc import Iterator

import pytest
from django.conf import settings
from django.test import override_settings
from django_tenants.utils import schema_context

from tests.conftest import host_client
from tests.test_production_settings import PRODUCTION_ENV, ROOT


def _json_handler(stream: io.StringIO) -> logging.Handler:
    """A handler built from the production formatter and filter exactly as configured."""
    config = copy.deepcopy(settings.LOGGING)  # the configurator consumes what it reads
    configurator = logging.config.DictConfigurator(config)
    handler = logging.StreamHandler(stream)
    handler.setFormatter(configurator.configure_formatter(config["formatters"]["json"]))
    handler.addFilter(configurator.configure_filter(config["filters"]["tenant_context"]))
    return handler


@pytest.fixture
def request_log() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    handler = _json_handler(stream)
    logger = logging.getLogger("django.request")
    logger.addHandler(handler)
    try:
        yield stream
    finally:
        logger.removeHandler(handler)


def _production_process(code: str) -> subprocess.CompletedProcess[str]:
    clean = {
        k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "STRIPE_", "LOG_"))
    }
    return subprocess.run(
        [sys.executable, "-c", code],
        env={**clean, "DJANGO_SETTINGS_MODULE": "config.settings", **PRODUCTION_ENV},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_production_uses_the_json_formatter_and_logs_each_request():
    code = (
        "from django.conf import settings; print(settings.LOGGING['handlers']['console']);"
        " print(settings.MIDDLEWARE[0])"
    )
    result = _production_process(code)

    assert result.returncode == 0, result.stderr
    handler, first_middleware = result.stdout.splitlines()
    assert "'formatter': 'json'" in handler
    assert "'tenant_context'" in handler
    assert first_middleware == "tenants.access_log.AccessLogMiddleware"


@pytest.fixture
def access_log() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    handler = _json_handler(stream)
    logger = logging.getLogger("tenants.access_log")
    logger.addHandler(handler)
    middleware = ["tenants.access_log.AccessLogMiddleware", *settings.MIDDLEWARE]
    try:
        with override_settings(MIDDLEWARE=middleware):
            yield stream
    finally:
        logger.removeHandler(handler)


def test_each_request_is_one_line_with_its_practice_schema_and_no_query(
    sunrise, harbor, access_log
):
    host_client("sunrise.localhost").get("/no-such-page/", {"q": "Carol Nguyen-Client"})
    host_client("harbor.localhost").get("/sign-in/")
    host_client("localhost").get("/health/no-such-page/")

    lines = [json.loads(line) for line in access_log.getvalue().splitlines()]
    assert [(line["schema_name"], line["message"]) for line in lines] == [
        (sunrise.schema_name, "GET /no-such-page/ 404"),
        (harbor.schema_name, "GET /sign-in/ 200"),
        ("public", "GET /health/no-such-page/ 404"),
    ]
    assert lines[0]["status_code"] == 404 and isinstance(lines[0]["duration_ms"], int)
    assert "Carol" not in access_log.getvalue()
    assert all("request" not in line for line in lines)


def test_the_tokens_of_emailed_links_are_hidden(sunrise, access_log):
    browser = host_client("sunrise.localhost")
    browser.get("/welcome/invitation-secret-token/")
    browser.get("/practice/reset/MTIz/reset-secret-token/")

    messages = [json.loads(line)["message"] for line in access_log.getvalue().splitlines()]
    assert messages[0].startswith("GET /welcome/[hidden]/ ")
    assert messages[1].startswith("GET /practice/reset/[hidden]/[hidden]/ ")
    assert "secret-token" not in access_log.getvalue()
    assert "MTIz" not in access_log.getvalue()


def test_a_record_renders_as_json_with_its_schema(sunrise):
    stream = io.StringIO()
    logger = logging.getLogger("tests.logging")
    handler = _json_handler(stream)
    logger.addHandler(handler)
    try:
        with schema_context(sunrise.schema_name):
            logger.warning("Invitation %s queued", 42)
    finally:
        logger.removeHandler(handler)

    record = json.loads(stream.getvalue())
    assert record["schema_name"] == sunrise.schema_name
    assert record["message"] == "Invitation 42 queued"
    assert record["level"] == "WARNING"
    assert record["logger"] == "tests.logging"


def test_request_logging_names_the_path_but_not_what_was_typed(sunrise, alice_browser, request_log):
    response = alice_browser.get("/practice/no-such-page/", {"q": "Carol Nguyen-Client"})
    assert response.status_code == 404

    lines = [json.loads(line) for line in request_log.getvalue().splitlines()]
    assert lines, "Django logged no 404"
    record = lines[-1]
    assert record["schema_name"] == sunrise.schema_name
    assert record["message"] == "Not Found: /practice/no-such-page/"
    assert record["status_code"] == 404
    assert "Carol" not in request_log.getvalue()
    assert "request" not in record
