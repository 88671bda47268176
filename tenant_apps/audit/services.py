from typing import Any

from django.db import models
from django.http import HttpRequest

from tenant_apps.audit.models import AuditEvent


def client_ip(request: HttpRequest | None) -> str | None:
    if request is None:
        return None
    return request.META.get("REMOTE_ADDR") or None


def record_event(
    actor: Any,
    action: str,
    *,
    target: models.Model | None = None,
    request: HttpRequest | None = None,
    **details: Any,
) -> AuditEvent:
    """Append an audit event. `details` must carry ids and codes only, never PHI."""
    authenticated = actor is not None and getattr(actor, "is_authenticated", False)
    return AuditEvent.objects.create(
        actor_id=actor.pk if authenticated else None,
        actor_role=getattr(actor, "role", "") if authenticated else "",
        action=action,
        object_type=target._meta.label_lower if target is not None else "",
        object_id=str(target.pk) if target is not None else "",
        ip_address=client_ip(request),
        details=details,
    )
