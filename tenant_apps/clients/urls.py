from django.urls import path

from tenant_apps.clients import portal_views, views

app_name = "clients"

urlpatterns = [
    path("", views.client_list, name="list"),
    path("new/", views.client_create, name="create"),
    path("<str:pk>/", views.client_detail, name="detail"),
    path("<str:pk>/edit/", views.client_edit, name="edit"),
    path("<str:pk>/invite/", views.client_invite, name="invite"),
    path("<str:pk>/revoke/", views.client_revoke, name="revoke"),
    path("<str:pk>/unlock/", views.client_unlock, name="unlock"),
    path("<str:pk>/demographics/", views.demographics_request, name="demographics_request"),
    path(
        "<str:pk>/demographics/<str:request_pk>/",
        views.demographics_review,
        name="demographics_review",
    ),
]

portal_urlpatterns = (
    [
        path("welcome/<str:token>/", portal_views.accept_invitation, name="accept_invitation"),
        path("request-access/", portal_views.request_access, name="request_access"),
        path("demographics/<str:pk>/", portal_views.demographics, name="demographics"),
        path(
            "demographics/<str:pk>/draft/",
            portal_views.demographics_draft,
            name="demographics_draft",
        ),
    ],
    "client_portal",
)
