"""What each feature app adds to a client's page in the workspace (documents, forms,
billing, appointments), registered in the app's AppConfig.ready()."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest

from tenant_apps.accounts.models import User
from tenant_apps.clients.models import Client


@dataclass(frozen=True)
class Panel:
    key: str
    template: str
    context: Callable[[HttpRequest, User, Client], dict[str, Any]]
    # Which staff roles see it (billers see billing and demographics only).
    roles: frozenset[str]
    order: int = 100


PANELS: dict[str, Panel] = {}


def register_panel(panel: Panel) -> None:
    PANELS[panel.key] = panel


def panels_for(request: HttpRequest, user: User, client: Client) -> list[dict[str, Any]]:
    visible = sorted(
        (panel for panel in PANELS.values() if user.role in panel.roles), key=lambda p: p.order
    )
    return [
        {"template": panel.template, **panel.context(request, user, client)} for panel in visible
    ]
