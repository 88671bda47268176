"""The 400, 403, 404 and 500 pages of every host, and the page for a refused form (CSRF).

They render with a context of their own and no context processors, so they need neither the
database nor the session: a 500 may be answering because the database is down, and a 400 may
come from a request the session could not read. The practice they name is the one
PracticeHostMiddleware resolved for this very request (`request.tenant`), so a page never names
another practice; without one (the platform's host, or a failure before the host was resolved)
they name the platform.
"""

from dataclasses import dataclass

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.template import loader
from django.urls import reverse

from tenants.models import Practice

PLATFORM_NAME = "Swasth for Clinicians"


@dataclass(frozen=True)
class WayBack:
    """Whose page this is, and the link that leads back to a page that works."""

    brand: str
    url: str
    label: str


def way_back(request: HttpRequest) -> WayBack:
    practice = getattr(request, "tenant", None)
    if not isinstance(practice, Practice):
        url = reverse("platform_home", urlconf=settings.PUBLIC_SCHEMA_URLCONF)
        return WayBack(PLATFORM_NAME, url, f"Go to the {PLATFORM_NAME} home page")
    workspace = reverse("workspace:home", urlconf=settings.ROOT_URLCONF)
    if request.path.startswith(workspace):
        return WayBack(practice.name, workspace, f"Back to the {practice.name} workspace")
    portal = reverse("portal:home", urlconf=settings.ROOT_URLCONF)
    return WayBack(practice.name, portal, f"Back to the {practice.name} Client Portal")


def _page(request: HttpRequest, template: str, *, status: int) -> HttpResponse:
    # No request passed to the template: that is what keeps the context processors out.
    content = loader.render_to_string(template, {"way_back": way_back(request)})
    return HttpResponse(content, status=status)


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    return _page(request, "400.html", status=400)


def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    return _page(request, "403.html", status=403)


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    return _page(request, "404.html", status=404)


def server_error(request: HttpRequest) -> HttpResponse:
    return _page(request, "500.html", status=500)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """A form sent without a valid token: usually a page left open past its session, or
    cookies turned off. `reason` is for developers and stays out of the page."""
    return _page(request, "403_csrf.html", status=403)
