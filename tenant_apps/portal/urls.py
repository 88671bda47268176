from django.contrib.auth import views as auth_views
from django.urls import path

from tenant_apps.accounts import views as account_views
from tenant_apps.portal import views

app_name = "portal"

urlpatterns = [
    path("", views.landing, name="home"),
    path("sign-in/", views.ClientSignInView.as_view(), name="login"),
    path("sign-out/", auth_views.LogoutView.as_view(next_page="portal:home"), name="logout"),
    path("password-reset/", account_views.client_password_reset, name="password_reset"),
    path(
        "reset/<uidb64>/<token>/",
        account_views.ClientPasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
]
