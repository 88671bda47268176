"""Route every request to the platform or to one practice's schema by its host name."""

import logging
import zoneinfo
from collections.abc import Callable
from functools import cache

from django.conf import settings
from django.core.exceptions import DisallowedHost
from django.db import DEFAULT_DB_ALIAS, connections
from django.http import HttpRequest, HttpResponse, HttpResponsePermanentRedirect
from django.template.response import TemplateResponse
from django.utils import timezone
from django_tenants.utils import get_public_schema_name

from tenants import request_memo
from tenants.hosts import HostKind, origin_for_host, platform_url, request_host, resolve_host

logger = logging.getLogger(__name__)

PUBLIC_SCHEMA = get_public_schema_name()


@cache
def practice_zone(name: str) -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(name)


class PracticeHostMiddleware:
    """Resolve the host, then set the schema and URL conf for the rest of the request.

    Unlike django-tenants' own middleware this answers from the cache (no query on a hit),
    answers unknown practice hosts with the platform's 404 page, suspended practices with a
    503 page, and slugs that were locked once with a permanent redirect.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        # The connection itself rather than its per-call proxy (looked up once, not thrice).
        db = connections[DEFAULT_DB_ALIAS]
        if db.schema_name != PUBLIC_SCHEMA:  # type: ignore[attr-defined]
            # Only a request that ended abnormally leaves another schema behind.
            db.set_schema_to_public()  # type: ignore[attr-defined]
        try:
            host = request_host(request)
        except DisallowedHost:
            logger.debug("Rejected a request for a host outside ALLOWED_HOSTS")
            return self._platform_page(request, "errors/unknown_host.html", status=400)

        resolution = resolve_host(host)
        # request.tenant is set on practice hosts only: django-tenants' admin templates read
        # a missing attribute as "the public schema".
        if resolution.kind is HostKind.PLATFORM:
            request.urlconf = settings.PUBLIC_SCHEMA_URLCONF
            return self.get_response(request)
        if resolution.kind is HostKind.UNKNOWN:
            return self._platform_page(request, "errors/unknown_host.html", status=404)
        if resolution.kind is HostKind.REDIRECT:
            target = origin_for_host(resolution.redirect_host) + request.get_full_path()
            return HttpResponsePermanentRedirect(target)

        route = resolution.route
        assert route is not None
        if route.suspended:
            return self._platform_page(request, "errors/suspended.html", status=503)

        # The request's own practice, copied on first use: a view that never reads it (a
        # health check, an autosave) does not pay for the copy.
        practice = resolution.practice
        request.tenant = practice  # type: ignore[attr-defined]
        # set_tenant() would read the practice's schema name and so make the copy: switch by
        # name, then make the request's practice the connection's, as set_tenant() does.
        db.set_schema(route.schema_name)  # type: ignore[attr-defined]
        db.tenant = practice  # type: ignore[attr-defined]
        # Practice hosts are served by ROOT_URLCONF, which Django uses unless told otherwise.
        # Times are stored in UTC and shown in the practice's own zone, on every page.
        timezone.activate(practice_zone(route.time_zone))
        memo_token = request_memo.begin_scope()
        try:
            return self.get_response(request)
        finally:
            request_memo.end_scope(memo_token)
            timezone.deactivate()
            db.set_schema_to_public()  # type: ignore[attr-defined]

    def _platform_page(self, request: HttpRequest, template: str, *, status: int) -> HttpResponse:
        context = {
            "platform_domain": settings.PLATFORM_DOMAIN,
            # Absolute: the page may answer a host that is not the platform's.
            "platform_home_url": platform_url("/"),
        }
        response = TemplateResponse(request, template, context, status=status)
        if status == 503:
            response["Retry-After"] = "3600"
        return response.render()
