"""Signing in: staff at /practice/, clients at the portal root, each only in its practice."""

import html

import pytest
from django.core import mail

from tests.conftest import host_client, signed_in
from tests.personas import PASSWORD


def test_a_client_signs_in_at_the_portal_and_sees_their_home(carol):
    browser = signed_in("sunrise.localhost", carol, url="/sign-in/")
    response = browser.get("/")
    assert b"Hello, Carol" in response.content
    assert b"Billing &amp; Payments" in response.content


def test_email_addresses_match_whatever_their_case(carol):
    browser = host_client("sunrise.localhost")
    response = browser.post("/sign-in/", {"username": "CAROL@Client.TEST", "password": PASSWORD})
    assert response.status_code == 302


def test_a_wrong_password_keeps_the_email_and_says_so(carol):
    response = host_client("sunrise.localhost").post(
        "/sign-in/", {"username": carol.email, "password": "wrong-password"}
    )
    assert response.status_code == 200
    text = response.content.decode()
    # Email addresses match whatever their case, so only the password is called exact.
    assert "correct email and password. The password is case-sensitive." in text
    assert "fields may be case-sensitive" not in text
    assert carol.email in text


def test_a_client_cannot_sign_in_to_the_workspace(carol):
    response = host_client("sunrise.localhost").post(
        "/practice/sign-in/", {"username": carol.email, "password": PASSWORD}
    )
    assert response.status_code == 200
    assert b"correct email and password" in response.content


def test_staff_cannot_sign_in_at_the_client_portal(alice):
    response = host_client("sunrise.localhost").post(
        "/sign-in/", {"username": alice.email, "password": PASSWORD}
    )
    assert response.status_code == 200


def test_a_client_session_does_not_open_the_workspace(carol_browser):
    response = carol_browser.get("/practice/")
    assert response.status_code == 302
    assert response["Location"].startswith("/practice/sign-in/")


def test_a_person_of_one_practice_cannot_sign_in_at_another(carol, alice):
    harbor = host_client("harbor.localhost")
    for url, person in (("/sign-in/", carol), ("/practice/sign-in/", alice)):
        response = harbor.post(url, {"username": person.email, "password": PASSWORD})
        assert response.status_code == 200


def test_a_session_from_sunrise_is_anonymous_at_harbor(carol_browser, alice_browser, harbor):
    for browser in (carol_browser, alice_browser):
        session_cookie = browser.cookies["sessionid"].value
        other = host_client("harbor.localhost")
        other.cookies["sessionid"] = session_cookie
        assert other.get("/practice/").status_code == 302
        portal = other.get("/")
        assert b"Sign in" in portal.content and b"Hello" not in portal.content


def test_session_and_csrf_cookies_are_host_only(carol_browser):
    cookie = carol_browser.cookies["sessionid"]
    assert cookie["domain"] == ""
    assert cookie["httponly"]


def test_it_locks_sign_in_after_repeated_failures(carol):
    browser = host_client("sunrise.localhost")
    for _ in range(5):
        browser.post("/sign-in/", {"username": carol.email, "password": "nope-nope"})
    response = browser.post("/sign-in/", {"username": carol.email, "password": PASSWORD})
    assert response.status_code == 429
    assert b"Too many attempts" in response.content


def test_a_lockout_at_one_practice_does_not_lock_another(carol, ivan):
    sunrise = host_client("sunrise.localhost")
    for _ in range(6):
        sunrise.post("/sign-in/", {"username": ivan.email, "password": "nope-nope"})
    harbor = host_client("harbor.localhost")
    response = harbor.post("/sign-in/", {"username": ivan.email, "password": PASSWORD})
    assert response.status_code == 302


@pytest.mark.parametrize("known", [True, False])
def test_password_reset_answers_the_same_for_known_and_unknown_addresses(
    carol, known, django_capture_on_commit_callbacks
):
    email = carol.email if known else "nobody@client.test"
    with django_capture_on_commit_callbacks(execute=True):
        response = host_client("sunrise.localhost").post(
            "/password-reset/", {"email": email}, follow=True
        )
    assert b"If that address has an account here" in response.content
    assert len(mail.outbox) == (1 if known else 0)


def test_the_reset_link_uses_the_practice_domain_not_the_request_host(
    carol, settings, django_capture_on_commit_callbacks
):
    settings.USE_X_FORWARDED_HOST = True
    with django_capture_on_commit_callbacks(execute=True):
        host_client("sunrise.localhost").post(
            "/password-reset/",
            {"email": carol.email},
            HTTP_X_FORWARDED_HOST="sunrise.localhost",
            HTTP_HOST="attacker.localhost",
        )
    (message,) = mail.outbox
    assert "http://sunrise.localhost:8000/reset/" in message.body
    assert "attacker" not in message.body


def test_a_client_resets_the_password_from_the_email_link(
    carol, django_capture_on_commit_callbacks
):
    browser = host_client("sunrise.localhost")
    with django_capture_on_commit_callbacks(execute=True):
        browser.post("/password-reset/", {"email": carol.email})
    link = next(line for line in mail.outbox[0].body.splitlines() if "/reset/" in line)
    path = link.split("sunrise.localhost:8000", 1)[1]

    # Opening the link (as an email scanner would) does not use it up.
    assert browser.get(path).status_code == 302
    form_url = browser.get(path, follow=True).redirect_chain[-1][0]
    new_password = "a-much-better-passphrase-2026"
    response = browser.post(
        form_url, {"new_password1": new_password, "new_password2": new_password}
    )
    assert response.status_code == 302
    assert b"Hello, Carol" in browser.get("/").content

    # The link works once, and then says what it was and where to go instead.
    used = html.unescape(host_client("sunrise.localhost").get(path, follow=True).content.decode())
    assert "<title>This password reset link can't be used — Sunrise Therapy</title>" in used
    assert "it was already used to choose a password" in used
    assert 'href="/sign-in/"' in used and 'href="/password-reset/"' in used


def test_a_staff_reset_link_does_not_work_for_a_client(carol, alice):
    from django.contrib.auth.tokens import default_token_generator
    from django.utils.encoding import force_bytes
    from django.utils.http import urlsafe_base64_encode
    from django_tenants.utils import schema_context

    from tenants.models import Practice

    practice = Practice.objects.get(domains__domain="sunrise.localhost")
    with schema_context(practice.schema_name):
        token = default_token_generator.make_token(carol)
    uid = urlsafe_base64_encode(force_bytes(carol.pk))
    response = host_client("sunrise.localhost").get(f"/practice/reset/{uid}/{token}/", follow=True)
    assert b"it was already used to choose a password" in response.content
