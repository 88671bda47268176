from django.apps import AppConfig


class TenantsConfig(AppConfig):
    name = "tenants"
    verbose_name = "Practices"

    def ready(self) -> None:
        from tenants import checks, hosts  # noqa: F401  (checks register themselves)

        hosts.connect_invalidation()
