from django.urls import path

from tenant_apps.payments import charge_views, pay_views, portal_views, views

app_name = "payments"

urlpatterns = [
    path("", views.settings_page, name="settings"),
    path("connect/", views.connect, name="connect"),
    path("onboarding/refresh/", views.onboarding_refresh, name="onboarding_refresh"),
    path("refresh/", views.refresh, name="refresh"),
    path("disconnect/", views.disconnect, name="disconnect"),
]

portal_urlpatterns = (
    [
        path("", portal_views.card_list, name="cards"),
        path("add/", portal_views.add_card, name="add_card"),
        path("complete/", portal_views.complete_card, name="complete_card"),
        path("return/", portal_views.card_return, name="card_return"),
        path("<str:pk>/default/", portal_views.make_default, name="make_default"),
        path("<str:pk>/remove/", portal_views.remove, name="remove"),
    ],
    "payments_portal",
)

pay_portal_urlpatterns = (
    [
        path("", pay_views.pay, name="pay"),
        path("<str:pk>/", pay_views.confirm, name="confirm"),
        path("<str:pk>/complete/", pay_views.complete, name="complete"),
        path("<str:pk>/return/", pay_views.stripe_return, name="return"),
        path("<str:pk>/receipt/", pay_views.receipt, name="receipt"),
        path("cards/<str:pk>/authorize/", pay_views.authorize_card, name="authorize_card"),
    ],
    "pay_portal",
)

charge_urlpatterns = (
    [path("invoices/<str:pk>/charge/", charge_views.charge_invoice, name="charge_invoice")],
    "payments_charges",
)
