from typing import Any

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.views.decorators.http import require_http_methods

from tenant_apps.accounts import services
from tenant_apps.accounts.forms import PasswordResetRequestForm, StaffSignInForm
from tenant_apps.accounts.models import User

CHECK_EMAIL_MESSAGE = (
    "If that address has an account here, we've sent it a link to reset the password. "
    "The link works for three days."
)


class StaffSignInView(auth_views.LoginView):
    template_name = "accounts/staff_sign_in.html"
    form_class = StaffSignInForm
    redirect_authenticated_user = False
    next_page = "workspace:home"


class _RoleSetPasswordView(auth_views.PasswordResetConfirmView):
    """Set a password from an emailed link. Opening the link does not use it up: only the
    submitted form changes the password, which invalidates the token.

    A used or expired link says which kind of link it was (Django's own page calls every
    one a failed password reset) and leads to signing in or to a new reset link."""

    post_reset_login = True
    post_reset_login_backend = "tenant_apps.accounts.backends.EmailBackend"
    staff: bool
    invalid_title = "This password reset link can't be used"
    invalid_reason = "It has expired, or it was already used to choose a password."

    def get_user(self, uidb64: str) -> User | None:
        user = super().get_user(uidb64)
        if user is not None and user.is_practice_staff != self.staff:
            return None
        return user

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        if not context["validlink"]:
            context["title"] = self.invalid_title
            context["invalid_reason"] = self.invalid_reason
            context["sign_in_url"] = reverse(
                "accounts:staff_login" if self.staff else "portal:login"
            )
            context["reset_url"] = reverse(
                "accounts:staff_password_reset" if self.staff else "portal:password_reset"
            )
        return context

    def form_valid(self, form: Any) -> HttpResponse:
        response = super().form_valid(form)
        services.record_password_set(form.user, request=self.request)
        return response


class StaffWelcomeView(_RoleSetPasswordView):
    template_name = "accounts/set_password.html"
    success_url = reverse_lazy("workspace:home")
    staff = True
    extra_context = {"title": "Welcome — choose your password"}
    invalid_title = "This invitation link can't be used"
    invalid_reason = "The invitation was already accepted, or it has expired."


class StaffPasswordResetConfirmView(StaffWelcomeView):
    extra_context = {"title": "Choose a new password"}
    invalid_title = _RoleSetPasswordView.invalid_title
    invalid_reason = _RoleSetPasswordView.invalid_reason


class ClientPasswordResetConfirmView(_RoleSetPasswordView):
    template_name = "accounts/set_password.html"
    success_url = reverse_lazy("portal:home")
    staff = False
    extra_context = {"title": "Choose a new password"}


def _password_reset(request: HttpRequest, *, staff: bool, template: str) -> HttpResponse:
    form = PasswordResetRequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        services.request_password_reset(form.cleaned_data["email"], staff=staff)
        messages.info(request, CHECK_EMAIL_MESSAGE)
        return redirect(request.path)
    return render(request, template, {"form": form})


@require_http_methods(["GET", "POST"])
def staff_password_reset(request: HttpRequest) -> HttpResponse:
    return _password_reset(request, staff=True, template="accounts/staff_password_reset.html")


@require_http_methods(["GET", "POST"])
def client_password_reset(request: HttpRequest) -> HttpResponse:
    return _password_reset(request, staff=False, template="portal/password_reset.html")
