"""Shared fixtures: two provisioned practices with named people, and clients on their hosts.

The practices are provisioned once per session and committed; every test then runs inside
a transaction that is rolled back. Tests that need real commits (races, a real worker) use
`committed_practice`, which provisions a throwaway practice and drops it afterwards; the
pytest-django `transaction=True` mode is not used, because its flush would truncate the
shared public tables.
"""

import html
import re
import threading
from collections.abc import Callable, Iterator

import pytest
from django.core.cache import cache
from django.db import connection, transaction
from django.http import HttpResponse
from django.test import Client
from django_tenants.utils import schema_context
from tenant_schemas_celery.task import _shared_storage

from shared_apps.plans.models import Plan
from tenant_apps.accounts.models import User
from tenants import host_memo
from tenants.models import Practice
from tests import personas
from tests.practices import drop_practice, provision_test_practice


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup: None, django_db_blocker: pytest.FixtureRequest) -> None:
    from tenants.template import migrate_template_schema

    name = connection.settings_dict["NAME"]
    if not str(name).startswith("test_"):
        # pytest-django creates a test database only when a selected test asks for `db`; a
        # selection of committed-data tests alone would otherwise write to the real one.
        raise RuntimeError(
            f"Refusing to provision test practices in database {name!r}: select at least one "
            "test that uses the `db` fixture, so that pytest-django creates the test database."
        )
    with django_db_blocker.unblock():  # type: ignore[attr-defined]
        migrate_template_schema(verbosity=0)
        provision_test_practice(
            "Sunrise Therapy",
            "sunrise",
            Plan.PROFESSIONAL,
            "America/New_York",
            personas.SUNRISE_PEOPLE,
        )
        provision_test_practice(
            "Harbor Counseling", "harbor", Plan.STARTER, "Europe/London", personas.HARBOR_PEOPLE
        )


@pytest.fixture(autouse=True)
def _clean_cache_and_schema() -> Iterator[None]:
    """Each test starts on the public schema with an empty cache (a rolled-back test may
    have cached resolutions of rows that no longer exist)."""
    cache.clear()
    # The flush reaches each process's host copy as a message too; this one need not wait.
    host_memo.forget_everything()
    # tenant-schemas-celery keeps practices per process; a test that travelled in time could
    # otherwise leave an entry that outlives it.
    _shared_storage.clear()
    connection.set_schema_to_public()
    yield
    connection.set_schema_to_public()


def _practice(slug: str) -> Practice:
    return Practice.objects.select_related("plan").get(domains__domain=f"{slug}.localhost")


@pytest.fixture
def sunrise(db: None) -> Practice:
    return _practice("sunrise")


@pytest.fixture
def harbor(db: None) -> Practice:
    return _practice("harbor")


def _person(practice: Practice, email: str) -> User:
    with schema_context(practice.schema_name):
        return User.objects.get(email=email)


@pytest.fixture
def alice(sunrise: Practice) -> User:
    return _person(sunrise, "alice@sunrise.test")


@pytest.fixture
def bob(sunrise: Practice) -> User:
    return _person(sunrise, "bob@sunrise.test")


@pytest.fixture
def carol(sunrise: Practice) -> User:
    return _person(sunrise, "carol@client.test")


@pytest.fixture
def dave(sunrise: Practice) -> User:
    return _person(sunrise, "dave@client.test")


@pytest.fixture
def hana(harbor: Practice) -> User:
    return _person(harbor, "hana@harbor.test")


@pytest.fixture
def ivan(harbor: Practice) -> User:
    return _person(harbor, "ivan@client.test")


def host_client(host: str) -> Client:
    return Client(HTTP_HOST=host)


@pytest.fixture
def sunrise_client(sunrise: Practice) -> Client:
    """An anonymous browser on sunrise's host."""
    return host_client("sunrise.localhost")


@pytest.fixture
def harbor_client(harbor: Practice) -> Client:
    return host_client("harbor.localhost")


@pytest.fixture
def platform_client(db: None) -> Client:
    return host_client("localhost")


def _wait_until_a_transaction_waits_for_another() -> None:
    """Until some connection waits for another transaction, as an insert does behind an
    uncommitted twin under a unique index, or a `SELECT ... FOR UPDATE` behind a row lock."""
    with connection.cursor() as cursor:
        for _ in range(600):
            cursor.execute(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'transactionid' AND NOT granted"
            )
            if cursor.fetchone()[0]:
                return
            threading.Event().wait(0.05)
    raise AssertionError("no connection ever waited for another transaction")


def race_behind_an_open_transaction(
    schema: str, hold: Callable[[], object], contend: Callable[[], object]
) -> tuple[object, object]:
    """Two real connections in `schema`: run `hold` in a transaction kept open until `contend`,
    on the second connection, waits for it; then commit. Returns what `hold` returned and what
    `contend` returned or raised. Call with the database unblocked, on committed rows."""
    holding, release = threading.Event(), threading.Event()
    held: list[object] = []
    contended: list[object] = []

    def first() -> None:
        try:
            with schema_context(schema), transaction.atomic():
                held.append(hold())
                holding.set()
                release.wait(timeout=30)
        finally:
            holding.set()
            connection.close()

    def second() -> None:
        try:
            with schema_context(schema):
                contended.append(contend())
        except Exception as error:  # the contender's refusal is what the test looks at
            contended.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    threads[0].start()
    holding.wait(timeout=30)
    threads[1].start()
    try:
        _wait_until_a_transaction_waits_for_another()
    finally:
        release.set()
        for thread in threads:
            thread.join(timeout=30)
    assert len(held) == len(contended) == 1, "a side of the race never finished"
    return held[0], contended[0]


def signed_in(host: str, person: User, *, url: str) -> Client:
    """A browser that signed in through the real sign-in form at `url` on `host`."""
    browser = host_client(host)
    response = browser.post(url, {"username": person.email, "password": personas.PASSWORD})
    assert response.status_code == 302, f"sign-in of {person.email} at {host}{url} failed"
    return browser


def sign_in_where_sent(browser: Client, sent: HttpResponse, person: User) -> HttpResponse:
    """Follow a redirect to a sign-in page, sign in there through its form, and open the page
    the form sends the person back to. Answers that page."""
    assert sent.status_code == 302, sent.status_code
    page = browser.get(sent["Location"])
    assert page.status_code == 200
    form = re.search(r'<form method="post"[^>]*>.*?</form>', page.content.decode(), re.DOTALL)
    assert form is not None, "the sign-in page has a form"
    action = re.search(r'action="([^"]*)"', form.group(0).split(">", 1)[0])
    hidden = re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', form.group(0))
    data = {name: html.unescape(value) for name, value in hidden}
    data.update(username=person.email, password=personas.PASSWORD)
    signed = browser.post(action.group(1) if action else sent["Location"], data)
    assert signed.status_code == 302, f"sign-in of {person.email} failed"
    return browser.get(signed["Location"])


@pytest.fixture
def alice_browser(alice: User) -> Client:
    return signed_in("sunrise.localhost", alice, url="/practice/sign-in/")


@pytest.fixture
def bob_browser(bob: User) -> Client:
    return signed_in("sunrise.localhost", bob, url="/practice/sign-in/")


@pytest.fixture
def carol_browser(carol: User) -> Client:
    return signed_in("sunrise.localhost", carol, url="/sign-in/")


@pytest.fixture
def hana_browser(hana: User) -> Client:
    return signed_in("harbor.localhost", hana, url="/practice/sign-in/")


@pytest.fixture
def committed_practice(
    django_db_setup: None, django_db_blocker: pytest.FixtureRequest
) -> Iterator[Practice]:
    """A practice committed to the database for tests that need several connections."""
    with django_db_blocker.unblock():  # type: ignore[attr-defined]
        practice = provision_test_practice(
            "Committed Care", "committed-care", Plan.PROFESSIONAL, "America/Chicago", ()
        )
        try:
            yield practice
        finally:
            connection.set_schema_to_public()
            drop_practice(practice)
