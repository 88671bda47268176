"""Client records in the workspace: roles, search, isolation and query counts."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import schema_context

from tenant_apps.audit.models import AuditEvent
from tenant_apps.clients.models import Client
from tests.conftest import host_client, signed_in
from tests.factories import ClientFactory

NEW_CLIENT = {
    "legal_first_name": "Hazel",
    "legal_last_name": "Brook",
    "email": "Hazel@Client.test",
    "mobile_phone": "(212) 555-0188",
    "status": "active",
    "country": "us",
}
NEW_URL = "/practice/clients/new/"


def add_client(browser, data):
    """Post the new-client form as a browser does: with the one-time token of a fresh page."""
    page = browser.get(NEW_URL).content.decode()
    (token,) = re.findall(r'name="form_token" value="([^"]+)"', page)
    return browser.post(NEW_URL, {**data, "form_token": token})


def test_the_owner_adds_a_client_and_the_phone_is_formatted(alice_browser, sunrise):
    response = add_client(alice_browser, NEW_CLIENT)
    assert response.status_code == 302
    with schema_context(sunrise.schema_name):
        hazel = Client.objects.get(legal_last_name="Brook")
    assert (hazel.email, hazel.mobile_phone, hazel.country) == (
        "hazel@client.test",
        "+12125550188",
        "US",
    )


def test_a_bad_phone_keeps_everything_typed(alice_browser):
    response = add_client(alice_browser, {**NEW_CLIENT, "mobile_phone": "12"})
    content = response.content.decode()
    assert response.status_code == 200
    assert "Enter a valid phone number" in content
    assert 'value="Hazel"' in content and 'value="Brook"' in content


def test_a_three_letter_country_gets_the_country_message(alice_browser, sunrise):
    response = add_client(alice_browser, {**NEW_CLIENT, "country": "USA"})

    content = response.content.decode()
    assert "Use the two-letter country code, such as US or GB." in content
    assert "at most 2 characters" not in content and 'value="USA"' in content


def test_an_unknown_country_code_is_explained_and_keeps_everything_typed(alice_browser, sunrise):
    response = add_client(alice_browser, {**NEW_CLIENT, "country": "zz"})

    content = response.content.decode()
    assert response.status_code == 200
    assert "ZZ is not a country code." in content and 'value="Hazel"' in content
    with schema_context(sunrise.schema_name):
        assert not Client.objects.filter(legal_last_name="Brook").exists()


def test_the_same_form_sent_twice_adds_one_client(alice_browser, sunrise):
    page = alice_browser.get(NEW_URL).content.decode()
    (token,) = re.findall(r'name="form_token" value="([^"]+)"', page)
    posted = {**NEW_CLIENT, "email": "", "form_token": token}

    first = alice_browser.post(NEW_URL, posted)
    second = alice_browser.post(NEW_URL, posted, follow=True)

    with schema_context(sunrise.schema_name):
        (hazel,) = Client.objects.filter(legal_last_name="Brook")
        created = AuditEvent.objects.filter(action="client.created", object_id=str(hazel.pk))
        assert created.count() == 1
    assert first["Location"] == f"/practice/clients/{hazel.pk}/"
    assert second.redirect_chain == [(f"/practice/clients/{hazel.pk}/", 302)]
    assert "Client added." in second.content.decode()


def test_a_used_new_client_form_sent_with_another_name_adds_nothing_and_says_so(
    alice_browser, sunrise
):
    page = alice_browser.get(NEW_URL).content.decode()
    (token,) = re.findall(r'name="form_token" value="([^"]+)"', page)
    alice_browser.post(NEW_URL, {**NEW_CLIENT, "email": "", "form_token": token})

    # Back, another person's name, save: Hazel stands and the page keeps what was typed.
    edited = {**NEW_CLIENT, "legal_first_name": "Ivy", "email": "", "form_token": token}
    response = alice_browser.post(NEW_URL, edited)

    content = response.content.decode()
    assert response.status_code == 200
    assert "This form already added Hazel Brook, and nothing else was saved." in content
    assert 'value="Ivy"' in content
    (fresh,) = re.findall(r'name="form_token" value="([^"]+)"', content)
    assert alice_browser.post(NEW_URL, {**edited, "form_token": fresh}).status_code == 302
    with schema_context(sunrise.schema_name):
        names = Client.objects.filter(legal_last_name="Brook").values_list("legal_first_name")
        assert sorted(names) == [("Hazel",), ("Ivy",)]


def test_the_same_form_sent_twice_with_an_email_leads_to_the_client_added(alice_browser, sunrise):
    page = alice_browser.get(NEW_URL).content.decode()
    (token,) = re.findall(r'name="form_token" value="([^"]+)"', page)
    posted = {**NEW_CLIENT, "form_token": token}

    alice_browser.post(NEW_URL, posted)
    second = alice_browser.post(NEW_URL, posted)

    with schema_context(sunrise.schema_name):
        (hazel,) = Client.objects.filter(email="hazel@client.test")
    assert second.status_code == 302 and second["Location"] == f"/practice/clients/{hazel.pk}/"


def test_two_forms_with_the_same_details_add_two_clients(alice_browser, sunrise):
    add_client(alice_browser, {**NEW_CLIENT, "email": ""})
    add_client(alice_browser, {**NEW_CLIENT, "email": ""})

    with schema_context(sunrise.schema_name):
        assert Client.objects.filter(legal_last_name="Brook").count() == 2


def test_a_post_without_the_form_token_is_refused_and_the_page_offers_a_new_one(
    alice_browser, sunrise
):
    refused = alice_browser.post(NEW_URL, NEW_CLIENT)

    page = refused.content.decode()
    assert refused.status_code == 200
    assert "This form has expired. Check the details and save again." in page
    assert 'value="Hazel"' in page
    (token,) = re.findall(r'name="form_token" value="([^"]+)"', page)
    with schema_context(sunrise.schema_name):
        assert not Client.objects.filter(legal_last_name="Brook").exists()

    saved = alice_browser.post(NEW_URL, {**NEW_CLIENT, "form_token": token})

    assert saved.status_code == 302


def test_two_clients_cannot_share_a_portal_email(alice_browser, carol_record):
    response = add_client(alice_browser, {**NEW_CLIENT, "email": "CAROL@client.test"})
    assert b"already uses this email address" in response.content


def test_a_dependant_may_share_the_contact_email(sunrise, carol_record, in_sunrise):
    child = Client.objects.create(
        legal_first_name="Kit",
        legal_last_name="Client",
        email=carol_record.email,
        contact_of=carol_record,
    )
    assert child.pk


def test_search_and_filters(alice_browser, carol_record, dave_record, bob):
    content = alice_browser.get("/practice/clients/", {"q": "carol"}).content.decode()
    assert "Carol Client" in content and "Dave Client" not in content
    by_clinician = alice_browser.get("/practice/clients/", {"clinician": bob.pk}).content.decode()
    assert "Carol Client" in by_clinician and "Dave Client" not in by_clinician
    inactive = alice_browser.get("/practice/clients/", {"status": "inactive"}).content.decode()
    assert "No clients match" in inactive


def test_the_list_paginates(alice_browser, sunrise, in_sunrise):
    ClientFactory.create_batch(30)
    content = alice_browser.get("/practice/clients/").content.decode()
    assert "Page 1 of 2" in content and "30 clients" in content
    assert "Page 2 of 2" in alice_browser.get("/practice/clients/?page=2").content.decode()


def test_a_clinician_sees_only_their_own_clients(bob_browser, carol_record, dave_record):
    content = bob_browser.get("/practice/clients/").content.decode()
    assert "Carol Client" in content and "Dave Client" not in content
    assert bob_browser.get(f"/practice/clients/{dave_record.pk}/").status_code == 404
    assert bob_browser.post(f"/practice/clients/{dave_record.pk}/invite/").status_code == 404


def test_the_owner_can_grant_a_clinician_practice_wide_access(
    alice_browser, bob, carol_record, dave_record
):
    alice_browser.post("/practice/settings/team/", {"staff": bob.pk, "allowed": "1"})
    browser = signed_in("sunrise.localhost", bob, url="/practice/sign-in/")
    assert browser.get(f"/practice/clients/{dave_record.pk}/").status_code == 200


def test_a_clinician_cannot_grant_access(bob_browser, bob):
    assert (
        bob_browser.post("/practice/settings/team/", {"staff": bob.pk, "allowed": "1"}).status_code
        == 403
    )


def test_a_biller_sees_demographics_but_not_staff_notes(biller_browser, carol_record):
    page = biller_browser.get(f"/practice/clients/{carol_record.pk}/").content.decode()
    assert "Carol" in page and "Prefers afternoon sessions" not in page
    form = biller_browser.get(f"/practice/clients/{carol_record.pk}/edit/").content.decode()
    assert 'name="staff_notes"' not in form


def test_a_biller_cannot_erase_staff_notes_by_tampering(biller_browser, carol_record, sunrise):
    biller_browser.post(
        f"/practice/clients/{carol_record.pk}/edit/",
        {
            "legal_first_name": "Carol",
            "legal_last_name": "Client",
            "email": carol_record.email,
            "status": "active",
            "staff_notes": "",
        },
    )
    with schema_context(sunrise.schema_name):
        assert Client.objects.get(pk=carol_record.pk).staff_notes == "Prefers afternoon sessions."


CLIENT_VIEWS = [
    ("get", "/practice/clients/{pk}/"),
    ("get", "/practice/clients/{pk}/edit/"),
    ("post", "/practice/clients/{pk}/invite/"),
    ("post", "/practice/clients/{pk}/revoke/"),
    ("post", "/practice/clients/{pk}/unlock/"),
    ("post", "/practice/clients/{pk}/demographics/"),
    ("get", "/practice/clients/{pk}/demographics/1/"),
]


@pytest.mark.parametrize("method, url", CLIENT_VIEWS)
def test_a_sunrise_client_id_is_404_at_harbor(method, url, carol_record, hana_browser):
    response = getattr(hana_browser, method)(url.format(pk=carol_record.pk))
    assert response.status_code == 404


@pytest.mark.parametrize("method, url", [*CLIENT_VIEWS, ("get", "/practice/clients/")])
def test_clients_and_anonymous_visitors_cannot_reach_client_records(
    method, url, carol_record, carol_browser
):
    for browser in (carol_browser, host_client("sunrise.localhost")):
        response = getattr(browser, method)(url.format(pk=carol_record.pk))
        assert response.status_code == 302
        assert response["Location"].startswith("/practice/sign-in/")


def test_harbor_staff_list_shows_no_sunrise_client(hana_browser, carol_record, ivan_record):
    content = hana_browser.get("/practice/clients/").content.decode()
    assert "Ivan Client" in content and "Carol" not in content


def test_viewing_a_client_writes_an_audit_event(alice_browser, alice, carol_record, sunrise):
    alice_browser.get(f"/practice/clients/{carol_record.pk}/")
    with schema_context(sunrise.schema_name):
        event = AuditEvent.objects.filter(action="client.viewed").get()
    assert (event.actor_id, event.object_id, event.ip_address) == (
        alice.pk,
        str(carol_record.pk),
        "127.0.0.1",
    )


def _queries(browser, url):
    with CaptureQueriesContext(connection) as captured:
        assert browser.get(url).status_code == 200
    return len(captured)


def test_the_list_and_client_page_queries_stay_constant_from_1_to_500_clients(
    alice_browser, carol_record, sunrise
):
    url = f"/practice/clients/{carol_record.pk}/"
    alice_browser.get("/practice/")  # the signed-in user is cached from here on
    few_list, few_detail = (
        _queries(alice_browser, "/practice/clients/"),
        _queries(alice_browser, url),
    )
    with schema_context(sunrise.schema_name):
        ClientFactory.create_batch(499)
    assert _queries(alice_browser, "/practice/clients/") == few_list
    assert _queries(alice_browser, url) == few_detail


@pytest.mark.parametrize("born", ["2999-01-01", "1850-05-05"])
def test_an_impossible_date_of_birth_is_refused(alice_browser, born):
    response = add_client(alice_browser, {**NEW_CLIENT, "date_of_birth": born})
    assert b"between 1900 and today" in response.content


def test_very_long_staff_notes_are_refused(alice_browser):
    response = add_client(alice_browser, {**NEW_CLIENT, "staff_notes": "x" * 20_001})
    assert b"at most 20000 characters" in response.content


@pytest.mark.parametrize(
    "url",
    [
        "/practice/clients/abc/",
        "/practice/clients/abc/edit/",
        "/practice/clients/99999999999999999999/",
        "/practice/billing/clients/abc/",
        "/practice/billing/clients/abc/invoices/new/",
        "/practice/forms/clients/abc/send/",
        "/practice/documents/share/?client=abc",
        "/practice/documents/share/?client=%00",
    ],
)
def test_a_client_id_that_is_not_a_number_is_not_found(alice_browser, carol_record, url):
    assert alice_browser.get(url).status_code == 404
