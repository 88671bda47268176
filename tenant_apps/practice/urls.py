from django.urls import path

from tenant_apps.accounts import views as account_views
from tenant_apps.practice import views

app_name = "workspace"

urlpatterns = [
    path("", views.home, name="home"),
    path("settings/details/", views.practice_details, name="practice_details"),
    path("settings/client-portal/", views.client_portal_settings, name="client_portal"),
    path("handoff/<str:token>/", views.accept_handoff, name="handoff"),
    path("settings/team/", views.team, name="team"),
]

account_urlpatterns = (
    [
        path("sign-in/", account_views.StaffSignInView.as_view(), name="staff_login"),
        path("password-reset/", account_views.staff_password_reset, name="staff_password_reset"),
        path(
            "reset/<uidb64>/<token>/",
            account_views.StaffPasswordResetConfirmView.as_view(),
            name="staff_password_reset_confirm",
        ),
        path(
            "welcome/<uidb64>/<token>/",
            account_views.StaffWelcomeView.as_view(),
            name="staff_welcome",
        ),
    ],
    "accounts",
)
