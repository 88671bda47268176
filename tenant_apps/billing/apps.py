from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "tenant_apps.billing"
    label = "billing"

    def ready(self) -> None:
        from tenant_apps.billing import emails  # noqa: F401  (registers the email builder)
        from tenant_apps.billing.models import (
            BillingDocument,
            Invoice,
            LedgerEntry,
            Payment,
            PaymentApplication,
            Refund,
        )
        from tenant_apps.billing.portal_views import portal_section
        from tenant_apps.billing.views import client_panel
        from tenant_apps.clients.models import Client
        from tenant_apps.clients.panels import Panel, register_panel
        from tenant_apps.portal.registry import register_section

        register_section(
            "billing",
            template="billing/portal/section.html",
            context=portal_section,
            depends_on=[
                Invoice, Payment, PaymentApplication, Refund, LedgerEntry, BillingDocument, Client
            ],
        )  # fmt: skip
        register_panel(
            Panel(
                key="billing",
                template="billing/panel.html",
                context=client_panel,
                roles=frozenset({"owner", "biller", "clinician"}),
                order=50,
            )
        )
