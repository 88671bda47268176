"""Who may use which area of a practice host. Checked on the server for every view."""

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.urls import reverse

from tenant_apps.accounts.models import User

View = Callable[..., HttpResponse]


def acting_user(request: HttpRequest) -> User:
    """The signed-in user of a view guarded by `staff_required` or `client_required`."""
    user = request.user
    assert isinstance(user, User), "acting_user() is for views that require sign-in"
    return user


def redirect_to_sign_in(request: HttpRequest, login_url_name: str) -> HttpResponse:
    """To the sign-in page named, which brings the person back to this URL afterwards."""
    return redirect_to_login(request.get_full_path(), reverse(login_url_name))


def _requires(predicate: Callable[[Any], bool], login_url_name: str) -> Callable[[View], View]:
    def decorator(view: View) -> View:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            user = request.user
            if not user.is_authenticated or not predicate(user):
                return redirect_to_sign_in(request, login_url_name)
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


staff_required = _requires(lambda user: user.is_practice_staff, "accounts:staff_login")
client_required = _requires(lambda user: user.is_client, "portal:login")
