import pytest
from django_tenants.utils import schema_context

from tenant_apps.clients.models import Client
from tests.conftest import host_client, signed_in
from tests.factories import ClientFactory
from tests.personas import PASSWORD


@pytest.fixture
def in_sunrise(sunrise):
    with schema_context(sunrise.schema_name):
        yield


@pytest.fixture
def carol_record(sunrise, carol, bob):
    """Carol's client record, linked to her portal account, assigned to Bob."""
    with schema_context(sunrise.schema_name):
        return Client.objects.create(
            legal_first_name="Carol",
            legal_last_name="Client",
            email=carol.email,
            user=carol,
            assigned_clinician=bob,
            mobile_phone="+12125550100",
            staff_notes="Prefers afternoon sessions.",
        )


@pytest.fixture
def dave_record(sunrise, dave):
    with schema_context(sunrise.schema_name):
        return Client.objects.create(
            legal_first_name="Dave", legal_last_name="Client", email=dave.email, user=dave
        )


@pytest.fixture
def erin_record(sunrise):
    """A client without a portal account yet."""
    with schema_context(sunrise.schema_name):
        return ClientFactory(
            legal_first_name="Erin", legal_last_name="New", email="erin@client.test"
        )


@pytest.fixture
def ivan_record(harbor, ivan):
    with schema_context(harbor.schema_name):
        return Client.objects.create(
            legal_first_name="Ivan", legal_last_name="Client", email=ivan.email, user=ivan
        )


@pytest.fixture
def biller(sunrise):
    from tenant_apps.accounts.models import Role, User

    with schema_context(sunrise.schema_name):
        user = User.objects.create_user(
            "fran@sunrise.test", PASSWORD, full_name="Fran Biller", role=Role.BILLER
        )
    return user


@pytest.fixture
def biller_browser(biller):
    return signed_in("sunrise.localhost", biller, url="/practice/sign-in/")


@pytest.fixture
def dave_browser(dave):
    return signed_in("sunrise.localhost", dave, url="/sign-in/")


@pytest.fixture
def ivan_browser(ivan):
    return signed_in("harbor.localhost", ivan, url="/sign-in/")


@pytest.fixture
def anonymous_sunrise():
    return host_client("sunrise.localhost")
