from django.urls import path

from tenant_apps.intake import portal_views, views

app_name = "intake"

urlpatterns = [
    path("", views.template_list, name="template_list"),
    path("new/", views.template_create, name="template_create"),
    path("review/", views.review_list, name="review_list"),
    path("submissions/<str:pk>/", views.submission_detail, name="submission_detail"),
    path("submissions/<str:pk>/pdf/", views.submission_pdf, name="submission_pdf"),
    path(
        "submissions/<str:pk>/files/<str:file_pk>/", views.submission_file, name="submission_file"
    ),
    path("clients/<str:client_pk>/send/", views.send, name="send"),
    path(
        "clients/<str:client_pk>/requests/<str:pk>/remind/",
        views.request_remind,
        name="request_remind",
    ),
    path(
        "clients/<str:client_pk>/requests/<str:pk>/cancel/",
        views.request_cancel,
        name="request_cancel",
    ),
    path("<str:pk>/", views.template_edit, name="template_edit"),
    path("<str:pk>/preview/", views.template_preview, name="template_preview"),
    path("<str:pk>/duplicate/", views.template_duplicate, name="template_duplicate"),
    path("<str:pk>/archive/", views.template_archive, name="template_archive"),
]

portal_urlpatterns = (
    [
        path("", portal_views.form_list, name="list"),
        path("<str:pk>/", portal_views.form_fill, name="fill"),
        path("<str:pk>/draft/", portal_views.form_draft, name="draft"),
        path("<str:pk>/upload/", portal_views.form_upload, name="upload"),
        path("<str:pk>/pdf/", portal_views.form_pdf, name="pdf"),
        path("<str:pk>/files/<str:file_pk>/", portal_views.form_file, name="file"),
    ],
    "intake_portal",
)
