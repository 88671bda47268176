from django.apps import AppConfig


class BookingConfig(AppConfig):
    name = "tenant_apps.booking"
    label = "booking"
    verbose_name = "Online booking"

    def ready(self) -> None:
        from tenant_apps.booking import emails  # noqa: F401  (registers the email builders)
        from tenant_apps.booking.models import SETTINGS_CACHE_KEY
        from tenant_apps.booking.portal_views import appointments_section
        from tenant_apps.booking.views import client_panel
        from tenant_apps.clients.panels import Panel, register_panel
        from tenant_apps.portal.registry import register_section
        from tenants import request_memo

        request_memo.prefetch_cache_key(SETTINGS_CACHE_KEY)
        register_section(
            "appointments",
            template="booking/portal/section.html",
            context=appointments_section,
        )
        register_panel(
            Panel(
                key="appointments",
                template="booking/panel.html",
                context=client_panel,
                roles=frozenset({"owner", "clinician"}),
                order=10,
            )
        )
