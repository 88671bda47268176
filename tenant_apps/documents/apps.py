from django.apps import AppConfig


class DocumentsConfig(AppConfig):
    name = "tenant_apps.documents"
    label = "documents"

    def ready(self) -> None:
        from tenant_apps.clients.models import Client
        from tenant_apps.clients.panels import Panel, register_panel
        from tenant_apps.documents import checks, emails  # noqa: F401  (registers them)
        from tenant_apps.documents.models import Document, DocumentShare
        from tenant_apps.documents.portal_views import home_section
        from tenant_apps.documents.views import client_panel
        from tenant_apps.portal.registry import register_section

        register_section(
            "documents",
            template="documents/portal/section.html",
            context=home_section,
            depends_on=[DocumentShare, Document, Client],
        )
        register_panel(
            Panel(
                key="documents",
                template="documents/panel.html",
                context=client_panel,
                # Billers see billing and demographics, never clinical documents.
                roles=frozenset({"owner", "clinician"}),
                order=20,
            )
        )
