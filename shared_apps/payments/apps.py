from django.apps import AppConfig


class PaymentsPlatformConfig(AppConfig):
    """Stripe Connect in the public schema: which practice owns which connected account, and
    the webhook events the platform endpoint has received."""

    name = "shared_apps.payments"
    label = "payments_platform"
