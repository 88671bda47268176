"""Every link the workspace shows a staff member opens for that staff member: nobody is offered
a page that answers "only the owner can change this"."""

import re

import pytest
from django.test import Client

from tests.clients.conftest import biller, biller_browser  # noqa: F401  (shared fixtures)

HREF = re.compile(r'<a [^>]*href="(/[^"#]*)"')
# The pages a staff member reaches from the workspace home in one click, and what they link to.
DEPTH = 2


def _links(page: str) -> set[str]:
    return {href.replace("&amp;", "&") for href in HREF.findall(page)}


def _links_shown(browser: Client, *, host: str) -> dict[str, str]:
    """Every same-host link on the workspace home and on the pages it leads to, each with a
    page that shows it."""
    shown: dict[str, str] = {}
    frontier = {"/practice/": "(start)"}
    for _ in range(DEPTH):
        next_frontier: dict[str, str] = {}
        for url, source in frontier.items():
            response = browser.get(url, HTTP_HOST=host)
            assert response.status_code == 200, f"{url} (linked from {source})"
            for link in _links(response.content.decode()) - shown.keys():
                shown[link] = url
                if link.startswith("/practice/"):
                    next_frontier[link] = url
        frontier = next_frontier
    return shown


def _assert_every_link_opens(browser: Client, *, host: str) -> set[str]:
    shown = _links_shown(browser, host=host)
    for link, source in shown.items():
        status = browser.get(link, HTTP_HOST=host).status_code
        assert status == 200, f"{link}, shown on {source}, answers {status}"
    return set(shown)


def test_every_link_an_owner_is_shown_opens(alice_browser):
    shown = _assert_every_link_opens(alice_browser, host="sunrise.localhost")
    assert {"/practice/settings/details/", "/practice/settings/client-portal/"} <= shown
    assert {"/practice/settings/team/", "/practice/audit/"} <= shown


def test_every_link_a_clinician_is_shown_opens(bob_browser):
    shown = _assert_every_link_opens(bob_browser, host="sunrise.localhost")
    assert "/practice/clients/" in shown and "/practice/forms/" in shown
    assert not {link for link in shown if link.startswith("/practice/settings/")}


def test_every_link_a_biller_is_shown_opens(biller_browser):  # noqa: F811
    shown = _assert_every_link_opens(biller_browser, host="sunrise.localhost")
    assert "/practice/billing/" in shown
    assert not {link for link in shown if link.startswith("/practice/settings/")}


def test_every_link_the_owner_of_a_starter_practice_is_shown_opens(hana_browser):
    _assert_every_link_opens(hana_browser, host="harbor.localhost")


@pytest.mark.parametrize("role_browser", ["bob_browser", "biller_browser"])
def test_staff_other_than_the_owner_are_not_offered_the_portal_set_up(role_browser, request):
    home = request.getfixturevalue(role_browser).get("/practice/").content.decode()

    assert "Set up your Client Portal" not in home
    assert "Practice Details" not in home and "Client Portal</a>" not in home


def test_the_owner_is_offered_the_portal_set_up(alice_browser):
    home = alice_browser.get("/practice/").content.decode()

    assert "Set up your Client Portal" in home
