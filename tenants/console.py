"""The operator console: Django admin on the platform host, for operators only."""

from django.contrib import admin
from django.contrib.admin.apps import AdminConfig
from django.http import HttpRequest


class OperatorConsole(admin.AdminSite):
    site_header = "Swasth for Clinicians — operator console"
    site_title = "Swasth operator console"
    index_title = "Practices and plans"

    def has_permission(self, request: HttpRequest) -> bool:
        user = request.user
        return bool(user.is_active and user.is_staff and getattr(user, "is_operator", False))


class OperatorConsoleConfig(AdminConfig):
    default_site = "tenants.console.OperatorConsole"
