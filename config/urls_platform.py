"""URLs on the platform's own host (public schema): the operator console."""

from django.contrib import admin
from django.urls import path
from django.views.generic import TemplateView

from shared_apps.payments.views import stripe_webhook
from tenants.health import health

urlpatterns = [
    path("", TemplateView.as_view(template_name="platform/home.html"), name="platform_home"),
    path("operator/", admin.site.urls),
    path("stripe/webhooks/", stripe_webhook, name="stripe_webhook"),
    path("health/", health, name="platform_health"),
]

# Branded error pages that link back to this host's home (tenants/error_pages.py).
handler400 = "tenants.error_pages.bad_request"
handler403 = "tenants.error_pages.permission_denied"
handler404 = "tenants.error_pages.page_not_found"
handler500 = "tenants.error_pages.server_error"
