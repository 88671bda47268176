"""URLs on the platform's own host (public schema): the operator console."""

from django.contrib import admin
from django.urls import path
from django.views.generic import TemplateView

from tenants.health import health

urlpatterns = [
    path("", TemplateView.as_view(template_name="platform/home.html"), name="platform_home"),
    path("operator/", admin.site.urls),
    path("health/", health, name="platform_health"),
]
