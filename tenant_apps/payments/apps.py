from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    """Payments inside a practice: the workspace's Stripe settings page (and, later, cards on
    file and payments). Its Stripe Connect data lives in the public schema
    (shared_apps.payments)."""

    name = "tenant_apps.payments"
    label = "payments"

    def ready(self) -> None:
        import tenant_apps.payments.card_events  # noqa: F401  (registers webhook handlers)
        from shared_apps.payments.services import STATUS_CACHE_KEY
        from tenant_apps.clients.panels import Panel, register_panel
        from tenant_apps.payments import emails, payment_events  # noqa: F401  (registration)
        from tenant_apps.payments.card_requests import card_panel, card_request_tasks
        from tenant_apps.payments.portal_views import card_tasks
        from tenant_apps.portal.registry import register_tasks
        from tenants import request_memo

        # The portal's menu shows card features only while charges are enabled.
        request_memo.prefetch_cache_key(STATUS_CACHE_KEY)
        register_tasks(card_tasks)
        register_tasks(card_request_tasks)
        register_panel(
            Panel(key="cards", template="payments/panel.html", context=card_panel,
                  roles=frozenset({"owner", "biller", "clinician"}), order=55)
        )  # fmt: skip
