from django.conf import settings
from django.http import HttpRequest

from tenants.hosts import platform_url


def practice(request: HttpRequest) -> dict[str, object]:
    return {
        "practice": getattr(request, "tenant", None),
        "platform_domain": settings.PLATFORM_DOMAIN,
        # An absolute URL: pages for unknown hosts link to the platform on its own host.
        "platform_home_url": platform_url("/"),
    }
