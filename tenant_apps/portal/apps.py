from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "tenant_apps.portal"
    label = "portal"
    verbose_name = "Client portal"
