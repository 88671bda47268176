"""URLs on a practice's host: the client portal at the root, the workspace under /practice/."""

from django.contrib.auth import views as auth_views
from django.urls import include, path

from tenant_apps.practice.urls import account_urlpatterns

urlpatterns = [
    path("practice/", include(account_urlpatterns)),
    path(
        "practice/sign-out/",
        auth_views.LogoutView.as_view(next_page="accounts:staff_login"),
        name="staff_logout",
    ),
    path("practice/", include("tenant_apps.practice.urls")),
    path("", include("tenant_apps.portal.urls")),
]
