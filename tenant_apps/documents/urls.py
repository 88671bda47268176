from django.urls import path

from tenant_apps.documents import portal_views, views

app_name = "documents"

urlpatterns = [
    path("", views.library, name="library"),
    path("share/", views.share_files, name="share_files"),
    path("settings/", views.update_settings, name="settings"),
    path("shares/<str:pk>/unshare/", views.unshare, name="unshare"),
    path("<str:pk>/", views.document_detail, name="detail"),
    path("<str:pk>/share/", views.share_document, name="share"),
    path("<str:pk>/delete/", views.delete, name="delete"),
    path("<str:pk>/seen/", views.mark_seen, name="mark_seen"),
    path("<str:pk>/view/", views.view_file, name="view"),
    path("<str:pk>/download/", views.download_file, name="download"),
]

portal_urlpatterns = (
    [
        path("", portal_views.document_list, name="list"),
        path("upload/", portal_views.upload, name="upload"),
        path("<str:pk>/view/", portal_views.view_file, name="view"),
        path("<str:pk>/download/", portal_views.download_file, name="download"),
    ],
    "client_documents",
)
