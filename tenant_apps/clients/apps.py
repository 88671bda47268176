from django.apps import AppConfig


class ClientsConfig(AppConfig):
    name = "tenant_apps.clients"
    label = "clients"

    def ready(self) -> None:
        from tenant_apps.clients import emails  # noqa: F401  (registers the email builders)
        from tenant_apps.clients.models import Client, DemographicRequest
        from tenant_apps.clients.portal_views import demographic_tasks
        from tenant_apps.portal.registry import register_tasks

        register_tasks(demographic_tasks, depends_on=[DemographicRequest, Client])
