"""Demographic information requests: the client fills a prefilled form with a draft that
survives, and the clinician accepts all, some or none of the changes."""

import html
import json
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.utils import timezone
from django_tenants.utils import schema_context

from tenant_apps.clients.models import Client, DemographicRequest
from tenant_apps.clients.services import demographic_changes, request_demographics
from tests.conftest import signed_in


@pytest.fixture
def open_request(sunrise, alice, carol_record, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True), schema_context(sunrise.schema_name):
        return request_demographics(carol_record, actor=alice)


def _form(record, **changes):
    data = {
        "legal_first_name": record.legal_first_name,
        "legal_last_name": record.legal_last_name,
        "email": record.email,
        "mobile_phone": record.mobile_phone,
    }
    data.update(changes)
    return data


def test_the_request_emails_the_client_without_details(open_request, carol):
    (message,) = mail.outbox
    assert message.to == [carol.email]
    assert "http://sunrise.localhost:8000/" in message.body
    assert "Carol" not in message.body and "+1212" not in message.body


def test_the_portal_home_lists_the_request_and_the_form_is_prefilled(open_request, carol_browser):
    home = carol_browser.get("/").content.decode()
    assert f"/demographics/{open_request.pk}/" in home
    form = carol_browser.get(f"/demographics/{open_request.pk}/").content.decode()
    assert 'value="Carol"' in form and 'value="+12125550100"' in form
    assert "Insurance company" in form and "Emergency contact name" in form


def test_the_draft_autosaves_and_survives_a_session_timeout(open_request, carol_browser, carol):
    url = f"/demographics/{open_request.pk}/draft/"
    response = carol_browser.post(
        url,
        json.dumps({"city": "Brooklyn", "pronouns": "she/her"}),
        content_type="application/json",
    )
    assert response.status_code == 200 and response.json()["saved_at"]

    with time_machine.travel(timezone.now() + timedelta(minutes=31)):
        timed_out = carol_browser.get("/")
        assert timed_out.status_code == 302
        follow = carol_browser.get("/").content.decode()
        assert "Sign in" in follow

        again = signed_in("sunrise.localhost", carol, url="/sign-in/")
        form = again.get(f"/demographics/{open_request.pk}/").content.decode()
    assert 'value="Brooklyn"' in form and 'value="she/her"' in form


def test_an_invalid_submission_keeps_what_was_typed(open_request, carol_browser, carol_record):
    response = carol_browser.post(
        f"/demographics/{open_request.pk}/",
        _form(carol_record, mobile_phone="123", city="Queens"),
    )
    content = response.content.decode()
    assert "Enter a valid phone number" in content and 'value="Queens"' in content


def test_a_null_character_is_explained_in_the_form_and_nothing_is_stored(
    open_request, carol_browser, carol_record, sunrise
):
    response = carol_browser.post(
        f"/demographics/{open_request.pk}/", _form(carol_record, city="a\x00b", pronouns="they")
    )

    content = response.content.decode()
    assert response.status_code == 200
    assert "Null characters are not allowed." in content and 'value="they"' in content
    with schema_context(sunrise.schema_name):
        stored = DemographicRequest.objects.get(pk=open_request.pk)
    assert stored.status == DemographicRequest.Status.PENDING and stored.draft == {}


@pytest.mark.parametrize("as_json", [True, False], ids=["json", "form"])
def test_the_autosave_refuses_a_null_character_and_keeps_the_last_draft(
    open_request, carol_browser, sunrise, as_json
):
    url = f"/demographics/{open_request.pk}/draft/"
    carol_browser.post(url, {"city": "Brooklyn"})

    values = {"city": "a\x00b", "pronouns": "she/her"}
    if as_json:
        response = carol_browser.post(url, json.dumps(values), content_type="application/json")
    else:
        response = carol_browser.post(url, values)

    assert response.status_code == 400
    assert response.json() == {"error": "Null characters are not allowed."}
    with schema_context(sunrise.schema_name):
        assert DemographicRequest.objects.get(pk=open_request.pk).draft == {"city": "Brooklyn"}


def test_submitting_waits_for_review_and_the_client_sees_it_completed(
    open_request, carol_browser, carol_record, sunrise
):
    response = carol_browser.post(
        f"/demographics/{open_request.pk}/", _form(carol_record, city="Queens")
    )
    assert response.status_code == 302
    with schema_context(sunrise.schema_name):
        assert Client.objects.get(pk=carol_record.pk).city == ""  # not yet
    done = carol_browser.get(f"/demographics/{open_request.pk}/").content.decode()
    assert "Completed" in done
    replay = carol_browser.post(f"/demographics/{open_request.pk}/", _form(carol_record, city="X"))
    assert b"Completed" in replay.content


def test_the_review_shows_exactly_what_changed_and_writes_only_accepted_fields(
    open_request, carol_browser, carol_record, alice_browser, sunrise
):
    carol_browser.post(
        f"/demographics/{open_request.pk}/",
        _form(carol_record, city="Queens", pronouns="she/her", legal_last_name="Clientson"),
    )
    with schema_context(sunrise.schema_name):
        changes = demographic_changes(DemographicRequest.objects.get(pk=open_request.pk))
    assert {c["field"]: (c["current"], c["proposed"]) for c in changes} == {
        "legal_last_name": ("Client", "Clientson"),
        "pronouns": ("", "she/her"),
        "city": ("", "Queens"),
    }

    url = f"/practice/clients/{carol_record.pk}/demographics/{open_request.pk}/"
    page = alice_browser.get(url).content.decode()
    assert "Clientson" in page and "Queens" in page and "+12125550100" not in page

    alice_browser.post(url, {"decision": "accept_selected", "field": ["city", "pronouns"]})
    with schema_context(sunrise.schema_name):
        record = Client.objects.get(pk=carol_record.pk)
        reviewed = DemographicRequest.objects.get(pk=open_request.pk)
    assert (record.city, record.pronouns, record.legal_last_name) == ("Queens", "she/her", "Client")
    assert sorted(reviewed.accepted_fields) == ["city", "pronouns"]
    assert reviewed.status == DemographicRequest.Status.REVIEWED


def test_rejecting_writes_nothing(
    open_request, carol_browser, carol_record, alice_browser, sunrise
):
    carol_browser.post(f"/demographics/{open_request.pk}/", _form(carol_record, city="Queens"))
    url = f"/practice/clients/{carol_record.pk}/demographics/{open_request.pk}/"
    alice_browser.post(url, {"decision": "reject"})
    with schema_context(sunrise.schema_name):
        assert Client.objects.get(pk=carol_record.pk).city == ""


def test_accept_all_writes_every_change(
    open_request, carol_browser, carol_record, alice_browser, sunrise
):
    carol_browser.post(
        f"/demographics/{open_request.pk}/", _form(carol_record, city="Queens", pronouns="they")
    )
    url = f"/practice/clients/{carol_record.pk}/demographics/{open_request.pk}/"
    alice_browser.post(url, {"decision": "accept_all"})
    with schema_context(sunrise.schema_name):
        record = Client.objects.get(pk=carol_record.pk)
    assert (record.city, record.pronouns) == ("Queens", "they")


def test_another_client_cannot_open_or_save_the_request(open_request, dave_browser, dave_record):
    assert dave_browser.get(f"/demographics/{open_request.pk}/").status_code == 404
    response = dave_browser.post(f"/demographics/{open_request.pk}/draft/", {"city": "Nowhere"})
    assert response.status_code == 404


def test_another_practice_cannot_open_the_request(open_request, ivan_browser, ivan_record):
    assert ivan_browser.get(f"/demographics/{open_request.pk}/").status_code == 404


def test_anonymous_visitors_are_sent_to_sign_in(open_request, anonymous_sunrise):
    for url in (f"/demographics/{open_request.pk}/", f"/demographics/{open_request.pk}/draft/"):
        response = anonymous_sunrise.post(url, {})
        assert response.status_code == 302 and "/sign-in/" in response["Location"]


def test_staff_of_another_practice_cannot_review(open_request, hana_browser, carol_record):
    url = f"/practice/clients/{carol_record.pk}/demographics/{open_request.pk}/"
    assert hana_browser.get(url).status_code == 404
    assert hana_browser.post(url, {"decision": "accept_all"}).status_code == 404


# The email address ----------------------------------------------------------------------


def test_the_client_sees_no_staff_help_under_the_email(open_request, carol_browser):
    page = carol_browser.get(f"/demographics/{open_request.pk}/").content.decode()

    assert "Needed to invite the client to the portal." not in page
    assert "You sign in to the portal with this address." in page


EMAIL_REFUSED = (
    "This email address can't be used for your portal sign-in. Please contact the practice."
)


@pytest.mark.parametrize("taken_by", ["client", "staff"])
def test_an_email_address_in_use_is_refused_without_saying_by_whom(
    open_request, carol_browser, carol_record, dave_record, alice, sunrise, taken_by
):
    taken = "DAVE@client.test" if taken_by == "client" else alice.email

    response = carol_browser.post(
        f"/demographics/{open_request.pk}/", _form(carol_record, email=taken, city="Queens")
    )

    content = html.unescape(response.content.decode())
    assert response.status_code == 200
    assert EMAIL_REFUSED in content and 'value="Queens"' in content
    assert "Dave" not in content and "another client" not in content.lower()
    with schema_context(sunrise.schema_name):
        assert DemographicRequest.objects.get(pk=open_request.pk).status == "pending"


def test_an_address_unused_in_the_practice_is_accepted(
    open_request, carol_browser, carol_record, alice_browser, sunrise
):
    carol_browser.post(
        f"/demographics/{open_request.pk}/", _form(carol_record, email="carol.new@client.test")
    )
    url = f"/practice/clients/{carol_record.pk}/demographics/{open_request.pk}/"

    alice_browser.post(url, {"decision": "accept_all"})

    with schema_context(sunrise.schema_name):
        record = Client.objects.select_related("user").get(pk=carol_record.pk)
    assert record.email == record.user.email == "carol.new@client.test"


def test_an_email_taken_after_submitting_is_explained_and_the_rest_can_be_accepted(
    open_request, carol_browser, carol_record, alice_browser, sunrise
):
    carol_browser.post(
        f"/demographics/{open_request.pk}/",
        _form(carol_record, email="shared@client.test", city="Queens"),
    )
    with schema_context(sunrise.schema_name):
        Client.objects.create(
            legal_first_name="Sam", legal_last_name="Other", email="shared@client.test"
        )
    url = f"/practice/clients/{carol_record.pk}/demographics/{open_request.pk}/"

    review = alice_browser.get(url).content.decode()
    refused = alice_browser.post(url, {"decision": "accept_all"})

    assert "uses this address, so it cannot be accepted" in review
    assert 'value="email" id="f-email">' in review and 'value="city" id="f-city" checked>' in review
    page = refused.content.decode()
    assert refused.status_code == 400
    assert 'role="alert">Another client of this practice already uses this email' in page
    assert 'value="email" id="f-email">' in page and 'value="city" id="f-city" checked>' in page
    with schema_context(sunrise.schema_name):
        assert DemographicRequest.objects.get(pk=open_request.pk).status == "submitted"
        assert Client.objects.get(pk=carol_record.pk).city == ""

    alice_browser.post(url, {"decision": "accept_selected", "field": ["city"]})

    with schema_context(sunrise.schema_name):
        record = Client.objects.get(pk=carol_record.pk)
        reviewed = DemographicRequest.objects.get(pk=open_request.pk)
    assert (record.city, record.email) == ("Queens", "carol@client.test")
    assert reviewed.status == "reviewed" and reviewed.accepted_fields == ["city"]
