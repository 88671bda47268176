"""What each feature app adds to the client's portal home, without editing the home page.

An app registers, in its AppConfig.ready():

- a section (`documents`, `billing`, `appointments`): a template plus a function that gives its
  context for the signed-in client; the home shows the section's empty state until an app
  provides it;
- a task source: a function returning what the practice is waiting for from the client
  (forms to fill, information to confirm), each a `PortalTask`.

A section or task source whose answer depends only on rows of the practice's schema (not on
the request, the clock or another cache) may name those rows' models as `depends_on`. Its
answer is then cached per client, together with the other cached parts, and every client's
cached home in the practice is dropped when a row of one of those models is saved or deleted,
or an audit event is written (every service audits its changes, including those that write
with `QuerySet.update()`, which sends no signal). Dropping is a new "generation" for the
practice, read in the same round trip as the client's entry, so one write costs one key.
"""

import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.core.cache import cache
from django.db import models, transaction
from django.db.models.signals import post_delete, post_save
from django.http import HttpRequest

from tenant_apps.accounts.models import User
from tenants import request_memo

# A bound on how long an entry lives; changes drop entries at once (see above).
HOME_CACHE_SECONDS = 600
GENERATION_KEY = "portal:home-generation"


@dataclass(frozen=True)
class PortalTask:
    label: str
    url: str


@dataclass(frozen=True)
class Section:
    template: str
    context: Callable[[HttpRequest, User], dict[str, Any]]
    cached: bool = False


@dataclass(frozen=True)
class TaskSource:
    tasks: Callable[[User], list[PortalTask]]
    cached: bool = False

    @property
    def name(self) -> str:
        return f"{self.tasks.__module__}.{self.tasks.__qualname__}"


SECTIONS: dict[str, Section] = {}
TASK_SOURCES: list[TaskSource] = []


def register_section(
    key: str,
    *,
    template: str,
    context: Callable[[HttpRequest, User], dict[str, Any]],
    depends_on: Iterable[type[models.Model]] = (),
) -> None:
    depends_on = tuple(depends_on)
    SECTIONS[key] = Section(template=template, context=context, cached=bool(depends_on))
    _watch(depends_on)


def register_tasks(
    source: Callable[[User], list[PortalTask]],
    *,
    depends_on: Iterable[type[models.Model]] = (),
) -> None:
    depends_on = tuple(depends_on)
    if all(registered.tasks is not source for registered in TASK_SOURCES):
        TASK_SOURCES.append(TaskSource(tasks=source, cached=bool(depends_on)))
    _watch(depends_on)


def sections_for(request: HttpRequest, user: User) -> dict[str, dict[str, Any]]:
    """Each registered section's template and context, keyed by section."""
    return {
        key: {"template": section.template, **section.context(request, user)}
        for key, section in SECTIONS.items()
    }


def tasks_for(user: User) -> list[PortalTask]:
    return [task for source in TASK_SOURCES for task in source.tasks(user)]


def home_for(
    request: HttpRequest, user: User
) -> tuple[dict[str, dict[str, Any]], list[PortalTask]]:
    """Sections and tasks for the portal home: the cached parts from this client's entry when
    it belongs to the practice's current generation, the others computed now."""
    key = f"portal:home:{user.pk}"
    # Practice-wide entries that the page's menu and sections read go in the same round trip.
    found = request_memo.get_many_with_prefetch([GENERATION_KEY, key])
    generation = found.get(GENERATION_KEY)
    if generation is None:
        cache.add(GENERATION_KEY, uuid.uuid4().hex, timeout=None)
        generation = cache.get(GENERATION_KEY)

    section_names = {name for name, section in SECTIONS.items() if section.cached}
    source_names = {source.name for source in TASK_SOURCES if source.cached}
    entry = found.get(key)
    if (
        entry is None
        or entry["generation"] != generation
        or set(entry["sections"]) != section_names
        or set(entry["tasks"]) != source_names
    ):
        # The generation was read before the rows: a change committed meanwhile has already
        # moved it on, so this entry is never taken for current.
        entry = {
            "generation": generation,
            "sections": {name: SECTIONS[name].context(request, user) for name in section_names},
            "tasks": {source.name: source.tasks(user) for source in TASK_SOURCES if source.cached},
        }
        cache.set(key, entry, timeout=HOME_CACHE_SECONDS)
    cached_sections, cached_tasks = entry["sections"], entry["tasks"]

    sections = {
        name: {
            "template": section.template,
            **(cached_sections[name] if section.cached else section.context(request, user)),
        }
        for name, section in SECTIONS.items()
    }
    tasks = [
        task
        for source in TASK_SOURCES
        for task in (cached_tasks[source.name] if source.cached else source.tasks(user))
    ]
    return sections, tasks


def forget_homes() -> None:
    """Drop every cached home of the practice whose schema the connection is on, now and
    again once the transaction commits (a home computed meanwhile read the old rows)."""

    def new_generation() -> None:
        cache.set(GENERATION_KEY, uuid.uuid4().hex, timeout=None)

    new_generation()
    transaction.on_commit(new_generation)


def _on_change(sender: type, **kwargs: object) -> None:
    forget_homes()


def _watch(models_: tuple[type[models.Model], ...]) -> None:
    if not models_:
        return
    from tenant_apps.audit.models import AuditEvent

    watched: tuple[type[models.Model], ...] = (*models_, AuditEvent)
    for model in watched:
        uid = f"portal-home-{model._meta.label_lower}"
        post_save.connect(_on_change, sender=model, dispatch_uid=uid)
        post_delete.connect(_on_change, sender=model, dispatch_uid=uid)
