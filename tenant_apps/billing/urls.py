from django.urls import path

from tenant_apps.billing import portal_views, views
from tenant_apps.payments import card_requests, refund_views

app_name = "billing"

urlpatterns = [
    path("", views.home, name="home"),
    path("services/", views.service_list, name="services"),
    path("services/new/", views.service_edit, name="service_create"),
    path("services/codes/", views.cpt_search, name="cpt_search"),
    path("services/<str:pk>/", views.service_edit, name="service_edit"),
    path("diagnosis-codes/", views.icd_search, name="icd_search"),
    path("profile/", views.profile, name="profile"),
    path("locations/new/", views.location_edit, name="location_create"),
    path("locations/<str:pk>/", views.location_edit, name="location_edit"),
    path("clients/<str:pk>/", views.client_billing, name="client"),
    path("clients/<str:pk>/invoices/new/", views.invoice_create, name="invoice_create"),
    path("clients/<str:pk>/payments/new/", views.payment_create, name="payment_create"),
    path("clients/<str:pk>/statements/new/", views.statement_create, name="statement_create"),
    path("clients/<str:pk>/superbills/new/", views.superbill_create, name="superbill_create"),
    path("clients/<str:pk>/diagnoses/", views.diagnosis_add, name="diagnosis_add"),
    path("clients/<str:pk>/card-request/", card_requests.ask_for_card, name="card_request"),
    path(
        "clients/<str:pk>/diagnoses/<str:diagnosis_pk>/remove/",
        views.diagnosis_remove,
        name="diagnosis_remove",
    ),
    path("invoices/<str:pk>/", views.invoice_detail, name="invoice"),
    path("invoices/<str:pk>/issue/", views.invoice_issue, name="invoice_issue"),
    path("invoices/<str:pk>/void/", views.invoice_void, name="invoice_void"),
    path("invoices/<str:pk>/write-off/", views.invoice_write_off, name="invoice_write_off"),
    path("payments/<str:pk>/", refund_views.payment_detail, name="payment"),
    path("payments/<str:pk>/refund/", refund_views.payment_refund, name="payment_refund"),
    path("documents/send/", views.documents_send, name="documents_send"),
    path("documents/<str:pk>/", views.document_detail, name="document"),
    path("documents/<str:pk>/pdf/", views.document_pdf, name="document_pdf"),
    path("statement-runs/", views.run_list, name="runs"),
    path("statement-runs/<str:pk>/", views.run_detail, name="run"),
    path("statement-runs/<str:pk>/status/", views.run_status, name="run_status"),
]

portal_urlpatterns = (
    [
        path("billing/", portal_views.billing, name="home"),
        path("billing/documents/<str:pk>/", portal_views.document_view, name="document"),
        path(
            "billing/documents/<str:pk>/download/",
            portal_views.document_download,
            name="download",
        ),
    ],
    "billing_portal",
)
