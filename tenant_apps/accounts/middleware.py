"""Clients are signed out after a period without activity that each practice chooses."""

import time
from collections.abc import Callable

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse

from tenant_apps.accounts.access import redirect_to_sign_in

LAST_SEEN_KEY = "client_last_seen"
# Refresh the stored time at most this often, so most requests do not write the session.
TOUCH_EVERY_SECONDS = 30


class ClientIdleTimeoutMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        practice = getattr(request, "tenant", None)
        if practice is None or settings.SESSION_COOKIE_NAME not in request.COOKIES:
            # Without a session cookie nobody is signed in: no need to load the user.
            return self.get_response(request)
        user = getattr(request, "user", None)
        if practice is None or user is None or not getattr(user, "is_client", False):
            return self.get_response(request)

        limit = practice.client_idle_timeout_minutes * 60
        now = time.time()
        last_seen = request.session.get(LAST_SEEN_KEY)
        if last_seen is not None and now - last_seen > limit:
            logout(request)
            messages.info(
                request,
                "You were signed out after "
                f"{practice.client_idle_timeout_minutes} minutes without activity. "
                "Anything you were filling in was saved.",
            )
            # Back to this page after signing in again (a GET's URL; a form's data is not kept,
            # but its page is).
            return redirect_to_sign_in(request, "portal:login")
        if last_seen is None or now - last_seen > TOUCH_EVERY_SECONDS:
            request.session[LAST_SEEN_KEY] = now
        request.client_idle_seconds = limit  # type: ignore[attr-defined]
        return self.get_response(request)
