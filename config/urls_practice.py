"""URLs on a practice's host: the client portal at the root, the workspace under /practice/."""

from django.contrib.auth import views as auth_views
from django.urls import include, path

from tenant_apps.billing.urls import portal_urlpatterns as billing_portal_urlpatterns
from tenant_apps.booking.urls import portal_urlpatterns as booking_portal_urlpatterns
from tenant_apps.clients.urls import portal_urlpatterns as client_portal_urlpatterns
from tenant_apps.documents.urls import portal_urlpatterns as document_portal_urlpatterns
from tenant_apps.intake.urls import portal_urlpatterns as intake_portal_urlpatterns
from tenant_apps.payments.urls import charge_urlpatterns, pay_portal_urlpatterns
from tenant_apps.payments.urls import portal_urlpatterns as payments_portal_urlpatterns
from tenant_apps.practice.urls import account_urlpatterns

urlpatterns = [
    path("practice/", include(account_urlpatterns)),
    path(
        "practice/sign-out/",
        auth_views.LogoutView.as_view(next_page="accounts:staff_login"),
        name="staff_logout",
    ),
    path("practice/clients/", include("tenant_apps.clients.urls")),
    path("practice/audit/", include("tenant_apps.audit.urls")),
    path("practice/billing/", include("tenant_apps.billing.urls")),
    path("practice/billing/", include(charge_urlpatterns)),
    path("practice/documents/", include("tenant_apps.documents.urls")),
    path("practice/forms/", include("tenant_apps.intake.urls")),
    path("practice/settings/payments/", include("tenant_apps.payments.urls")),
    path("practice/", include("tenant_apps.practice.urls")),
    path("practice/", include("tenant_apps.booking.urls")),
    path("", include(client_portal_urlpatterns)),
    path("", include(billing_portal_urlpatterns)),
    path("", include(booking_portal_urlpatterns)),
    path("documents/", include(document_portal_urlpatterns)),
    path("forms/", include(intake_portal_urlpatterns)),
    path("cards/", include(payments_portal_urlpatterns)),
    path("billing/pay/", include(pay_portal_urlpatterns)),
    path("", include("tenant_apps.portal.urls")),
]

# Branded error pages that link back to this host's home (tenants/error_pages.py).
handler400 = "tenants.error_pages.bad_request"
handler403 = "tenants.error_pages.permission_denied"
handler404 = "tenants.error_pages.page_not_found"
handler500 = "tenants.error_pages.server_error"
