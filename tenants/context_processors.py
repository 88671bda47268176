from django.conf import settings
from django.http import HttpRequest


def practice(request: HttpRequest) -> dict[str, object]:
    return {
        "practice": getattr(request, "tenant", None),
        "platform_domain": settings.PLATFORM_DOMAIN,
    }
