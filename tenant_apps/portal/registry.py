"""What each feature app adds to the client's portal home, without editing the home page.

An app registers, in its AppConfig.ready():

- a section (`documents`, `billing`, `appointments`): a template plus a function that gives its
  context for the signed-in client; the home shows the section's empty state until an app
  provides it;
- a task source: a function returning what the practice is waiting for from the client
  (forms to fill, information to confirm), each a `PortalTask`.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest

from tenant_apps.accounts.models import User


@dataclass(frozen=True)
class PortalTask:
    label: str
    url: str


@dataclass(frozen=True)
class Section:
    template: str
    context: Callable[[HttpRequest, User], dict[str, Any]]


SECTIONS: dict[str, Section] = {}
TASK_SOURCES: list[Callable[[User], list[PortalTask]]] = []


def register_section(
    key: str, *, template: str, context: Callable[[HttpRequest, User], dict[str, Any]]
) -> None:
    SECTIONS[key] = Section(template=template, context=context)


def register_tasks(source: Callable[[User], list[PortalTask]]) -> None:
    if source not in TASK_SOURCES:
        TASK_SOURCES.append(source)


def sections_for(request: HttpRequest, user: User) -> dict[str, dict[str, Any]]:
    """Each registered section's template and context, keyed by section."""
    return {
        key: {"template": section.template, **section.context(request, user)}
        for key, section in SECTIONS.items()
    }


def tasks_for(user: User) -> list[PortalTask]:
    return [task for source in TASK_SOURCES for task in source(user)]
