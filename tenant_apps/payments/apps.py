from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    """Payments inside a practice: the workspace's Stripe settings page (and, later, cards on
    file and payments). Its Stripe Connect data lives in the public schema
    (shared_apps.payments)."""

    name = "tenant_apps.payments"
    label = "payments"

    def ready(self) -> None:
        from tenant_apps.payments.portal_views import card_tasks
        from tenant_apps.portal.registry import register_tasks

        register_tasks(card_tasks)
