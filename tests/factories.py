"""factory_boy factories. Create rows inside the practice's schema (`schema_context`)."""

import factory

from tenant_apps.clients.models import Client


class ClientFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Client

    legal_first_name = factory.Faker("first_name")
    legal_last_name = factory.Faker("last_name")
    email = factory.Sequence(lambda n: f"client{n}@example.test")
    status = Client.Status.ACTIVE
