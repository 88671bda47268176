from django.urls import path

from tenant_apps.booking import portal_views, views

app_name = "booking"

# Mounted under /practice/.
urlpatterns = [
    path("settings/online-booking/", views.booking_settings, name="settings"),
    path("settings/online-booking/services/new/", views.service_edit, name="service_new"),
    path("settings/online-booking/services/<str:pk>/", views.service_edit, name="service_edit"),
    path("settings/online-booking/hours/<str:clinician_pk>/", views.clinician_hours, name="hours"),
    path("calendar/", views.calendar, name="calendar"),
    path("calendar/new/", views.schedule, name="schedule"),
    path("appointments/<str:pk>/", views.appointment_detail, name="appointment"),
    path("appointments/<str:pk>/decide/", views.appointment_decide, name="decide"),
    path("appointments/<str:pk>/cancel/", views.appointment_cancel, name="cancel"),
    path("appointments/<str:pk>/move/", views.appointment_move, name="move"),
]

# Mounted at the portal root.
portal_urlpatterns = (
    [
        path("appointments/", portal_views.appointment_list, name="list"),
        path("appointments/new/", portal_views.services_step, name="services"),
        path("appointments/new/<str:service_pk>/", portal_views.clinicians_step, name="clinicians"),
        path(
            "appointments/new/<str:service_pk>/<str:clinician_pk>/",
            portal_views.slots_step,
            name="slots",
        ),
        path(
            "appointments/new/<str:service_pk>/<str:clinician_pk>/confirm/",
            portal_views.confirm_step,
            name="confirm",
        ),
        path("appointments/<str:pk>/", portal_views.appointment_detail, name="detail"),
        path("appointments/<str:pk>/cancel/", portal_views.appointment_cancel, name="cancel"),
        path("book/", portal_views.new_client_services, name="new_client_services"),
        path(
            "book/<str:service_pk>/",
            portal_views.new_client_clinicians,
            name="new_client_clinicians",
        ),
        path(
            "book/<str:service_pk>/<str:clinician_pk>/",
            portal_views.new_client_slots,
            name="new_client_slots",
        ),
        path(
            "book/<str:service_pk>/<str:clinician_pk>/confirm/",
            portal_views.new_client_confirm,
            name="new_client_confirm",
        ),
    ],
    "booking_portal",
)
