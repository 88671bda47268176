"""One access line per request, written from inside Django so that it carries the practice
schema (gunicorn's own access log runs outside the request and cannot know the practice).

Production only (config/settings/core.py): the development server prints its own lines.
"""

import logging
import time
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

logger = logging.getLogger(__name__)

# URL arguments that are secrets in themselves: a password-reset or invitation link logged in
# full could be used by whoever reads the log.
SECRET_URL_ARGUMENTS = frozenset({"token", "uidb64"})
HIDDEN = "[hidden]"


def loggable_path(request: HttpRequest) -> str:
    """The request's path with every secret URL argument replaced by a marker."""
    path = request.path
    match = getattr(request, "resolver_match", None)
    if match is None:
        return path
    for name, value in match.kwargs.items():
        if name in SECRET_URL_ARGUMENTS and isinstance(value, str) and value:
            path = path.replace(value, HIDDEN)
    return path


class AccessLogMiddleware:
    """Outermost, so that it sees the practice PracticeHostMiddleware resolved and every
    response, including the ones that middleware answers itself.

    The line names the method, the path without its query string (a query may hold what a
    person typed; paths carry ids, and the tokens of emailed links are hidden) and the
    status. The request rides along as an extra for the log filter to read the practice
    from; the JSON formatter leaves it out.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.monotonic()
        response = self.get_response(request)
        logger.info(
            "%s %s %s",
            request.method,
            loggable_path(request),
            response.status_code,
            extra={
                "request": request,
                "status_code": response.status_code,
                "duration_ms": round((time.monotonic() - started) * 1000),
            },
        )
        return response
