"""A real Celery worker, and a practice committed while tasks go to it.

Both live as long as the test module: starting a worker takes a second or two, and the
practice's owner invitation is sent once, when it is provisioned. Data the worker reads must be
committed, so the practice is provisioned for real (outside any test's transaction) and
dropped afterwards, as `committed_practice` does. The tests themselves still ask for `db`:
that is what tells pytest-django to create the test database the worker is pointed at.
"""

from collections.abc import Iterator

import pytest
from django.db import connection

from shared_apps.plans.models import Plan
from tenants.models import Practice
from tenants.services import provision_practice
from tests.payments import conftest as payments_fixtures
from tests.payments.conftest import SECRET_KEY, WEBHOOK_SECRET
from tests.payments.stripe_fake import StripeStack
from tests.practices import drop_practice
from tests.worker import Worker, start_worker, tasks_sent_to

# The session-wide localstripe and recording proxy of the payments tests.
stripe_stack = payments_fixtures.stripe_stack

WILLOW_OWNER_EMAIL = "wendy@willow.test"
WILLOW_OWNER_NAME = "Wendy Willow"


@pytest.fixture(scope="module")
def worker(django_db_setup: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Worker]:
    """A real worker that takes every task enqueued while the module runs."""
    worker = start_worker(tmp_path_factory.mktemp("celery-worker"))
    try:
        with tasks_sent_to(worker):
            yield worker
    finally:
        worker.stop()


@pytest.fixture(scope="module")
def stripe_worker(
    django_db_setup: None, stripe_stack: StripeStack, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Worker]:
    """A real worker whose Stripe calls go to localstripe, taking every task of the module."""
    worker = start_worker(
        tmp_path_factory.mktemp("stripe-worker"),
        environment={
            "STRIPE_API_BASE": stripe_stack.fake.url,
            "STRIPE_SECRET_KEY": SECRET_KEY,
            "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
        },
    )
    try:
        with tasks_sent_to(worker):
            yield worker
    finally:
        worker.stop()


@pytest.fixture(scope="module")
def willow(worker: Worker, django_db_blocker: pytest.FixtureRequest) -> Iterator[Practice]:
    """Willow Wellness, provisioned and committed while tasks go to the real worker, so the
    worker is the one that sends Wendy's owner invitation."""
    with django_db_blocker.unblock():  # type: ignore[attr-defined]
        practice = provision_practice(
            actor=None,
            name="Willow Wellness",
            slug="willow-wellness",
            owner_email=WILLOW_OWNER_EMAIL,
            owner_name=WILLOW_OWNER_NAME,
            plan_code=Plan.STARTER,
            time_zone="America/Denver",
        )
    yield practice
    with django_db_blocker.unblock():  # type: ignore[attr-defined]
        connection.set_schema_to_public()
        drop_practice(practice)
