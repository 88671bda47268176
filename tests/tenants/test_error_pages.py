"""The 400, 403, 404 and 500 pages: in the product's look, saying what happened, linking back
to the home of the host they are on, and naming only the practice of that host. The 500 page
renders while the database refuses every query."""

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from django.db import OperationalError, connection
from django.test import Client, RequestFactory
from django.urls import get_resolver

from tenant_apps.accounts.models import User
from tests.conftest import host_client

SUNRISE = "sunrise.localhost"
HARBOR = "harbor.localhost"
STYLESHEET = '<link rel="stylesheet" href="/static/css/app.css">'
DJANGO_DEFAULTS = (b"The requested resource was not found", b"Server Error (500)", b"Bad Request")


@pytest.fixture(autouse=True)
def _as_in_production(settings) -> None:
    settings.DEBUG = False


@contextmanager
def database_down() -> Iterator[None]:
    """Every query of this connection fails, as when the database server is unreachable."""

    def refuse(execute, sql, params, many, context):
        raise OperationalError("the database is unreachable")

    with connection.execute_wrapper(refuse):
        yield


def _page(response, status: int) -> str:
    assert response.status_code == status
    assert response["Content-Type"].startswith("text/html")
    for default in DJANGO_DEFAULTS:
        assert default not in response.content
    content = response.content.decode()
    assert STYLESHEET in content
    return content


def _assert_links_back(content: str, *, url: str, label: str) -> None:
    assert f'<a class="button primary" href="{url}">{label}</a>' in content


def _failing(browser: Client) -> Client:
    browser.raise_request_exception = False
    return browser


# 404 ------------------------------------------------------------------------------------------


def test_a_missing_portal_page_names_the_practice_and_links_to_its_portal(sunrise_client):
    content = _page(sunrise_client.get("/no-such-page/"), 404)

    assert "We couldn't find that page" in content
    assert '<a class="brand" href="/">Sunrise Therapy</a>' in content
    _assert_links_back(content, url="/", label="Back to the Sunrise Therapy Client Portal")
    assert "Harbor" not in content


def test_a_missing_workspace_page_links_to_the_workspace(alice_browser, sunrise_client):
    for browser in (alice_browser, sunrise_client):
        content = _page(browser.get("/practice/no-such-page/"), 404)

        _assert_links_back(content, url="/practice/", label="Back to the Sunrise Therapy workspace")


def test_an_id_that_is_not_the_clients_gets_the_branded_page(carol_browser):
    content = _page(carol_browser.get("/forms/999999/"), 404)

    assert "We couldn't find that page" in content
    assert "Sunrise Therapy" in content


def test_each_practice_host_names_only_its_own_practice(sunrise_client, harbor_client):
    sunrise_page = _page(sunrise_client.get("/no-such-page/"), 404)
    harbor_page = _page(harbor_client.get("/no-such-page/"), 404)

    assert "Sunrise Therapy" in sunrise_page and "Harbor" not in sunrise_page
    assert "Harbor Counseling" in harbor_page and "Sunrise" not in harbor_page


def test_a_missing_platform_page_links_to_the_platform_home(platform_client, sunrise, harbor):
    content = _page(platform_client.get("/no-such-page/"), 404)

    assert "We couldn't find that page" in content
    _assert_links_back(content, url="/", label="Go to the Swasth for Clinicians home page")
    assert "Sunrise" not in content and "Harbor" not in content


def test_an_unknown_host_links_to_the_platform_home(sunrise, harbor):
    response = host_client("nobody-here.localhost").get("/no-such-page/")

    content = _page(response, 404)
    assert "We couldn't find that portal" in content
    _assert_links_back(
        content,
        url="http://localhost:8000/",
        label="Go to the Swasth for Clinicians home page",
    )
    assert "Sunrise" not in content and "Harbor" not in content


# 500 ------------------------------------------------------------------------------------------


def test_a_portal_failure_names_the_practice_without_the_database(carol_browser):
    browser = _failing(carol_browser)

    with database_down():
        response = browser.get("/documents/")

    content = _page(response, 500)
    assert "Something went wrong on our side" in content
    _assert_links_back(content, url="/", label="Back to the Sunrise Therapy Client Portal")


def test_a_workspace_failure_links_to_the_workspace(alice_browser):
    browser = _failing(alice_browser)

    with database_down():
        response = browser.get("/practice/clients/")

    content = _page(response, 500)
    _assert_links_back(content, url="/practice/", label="Back to the Sunrise Therapy workspace")


def test_after_a_failure_at_one_practice_the_next_page_names_the_other(
    carol_browser, harbor_client
):
    with database_down():
        _failing(carol_browser).get("/documents/")

    content = _page(harbor_client.get("/no-such-page/"), 404)
    assert "Harbor Counseling" in content and "Sunrise" not in content


def test_a_platform_failure_links_to_the_platform_home(sunrise, harbor):
    User.objects.create_superuser("ops@platform.test", "operator-pass-2026", full_name="Ops")
    console = _failing(host_client("localhost"))
    console.post(
        "/operator/login/", {"username": "ops@platform.test", "password": "operator-pass-2026"}
    )

    with database_down():
        response = console.get("/operator/tenants/practice/")

    content = _page(response, 500)
    _assert_links_back(content, url="/", label="Go to the Swasth for Clinicians home page")
    assert "Sunrise" not in content and "Harbor" not in content


@pytest.mark.parametrize("host", [SUNRISE, "nobody-here.localhost"])
def test_a_failure_before_the_host_is_known_names_no_practice(sunrise, host):
    # A cold cache: the host must be looked up in the database, which is down.
    browser = _failing(host_client(host))

    with database_down():
        response = browser.get("/")

    content = _page(response, 500)
    assert "Sunrise" not in content
    _assert_links_back(content, url="/", label="Go to the Swasth for Clinicians home page")


# 400 and 403 ------------------------------------------------------------------------------------


def _too_many_fields() -> dict[str, str]:
    return {f"field{n}": "x" for n in range(1001)}


def test_an_unreadable_request_gets_the_branded_400_on_each_host(sunrise_client, platform_client):
    content = _page(sunrise_client.post("/sign-in/", _too_many_fields()), 400)
    assert "We couldn't understand that request" in content
    _assert_links_back(content, url="/", label="Back to the Sunrise Therapy Client Portal")

    content = _page(platform_client.post("/operator/login/", _too_many_fields()), 400)
    _assert_links_back(content, url="/", label="Go to the Swasth for Clinicians home page")


def test_a_form_without_its_token_gets_a_page_saying_it_expired(sunrise, platform_client):
    browser = Client(HTTP_HOST=SUNRISE, enforce_csrf_checks=True)

    content = _page(browser.post("/practice/sign-in/", {"username": "a", "password": "b"}), 403)
    assert "This form has expired" in content
    _assert_links_back(content, url="/practice/", label="Back to the Sunrise Therapy workspace")

    console = Client(HTTP_HOST="localhost", enforce_csrf_checks=True)
    content = _page(console.post("/operator/login/", {"username": "a"}), 403)
    _assert_links_back(content, url="/", label="Go to the Swasth for Clinicians home page")


def test_a_refused_platform_page_gets_the_branded_403(sunrise):
    User.objects.create_superuser("ops@platform.test", "operator-pass-2026", full_name="Ops")
    console = host_client("localhost")
    console.post(
        "/operator/login/", {"username": "ops@platform.test", "password": "operator-pass-2026"}
    )

    # Practices are never deleted from the console: the admin refuses with PermissionDenied.
    content = _page(console.get(f"/operator/tenants/practice/{sunrise.pk}/delete/"), 403)

    assert "You don't have access to this page" in content
    _assert_links_back(content, url="/", label="Go to the Swasth for Clinicians home page")
    assert "Sunrise" not in content


def test_a_refused_practice_page_gets_the_branded_403(sunrise):
    request = RequestFactory().get("/practice/anything/", HTTP_HOST=SUNRISE)
    request.tenant = sunrise
    handler = get_resolver("config.urls_practice").resolve_error_handler(403)

    with database_down():
        content = _page(handler(request, PermissionError()), 403)

    _assert_links_back(content, url="/practice/", label="Back to the Sunrise Therapy workspace")
