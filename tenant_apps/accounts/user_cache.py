"""Signed-in users from the cache, so that a signed-in page need not query for its user.

Every request of a signed-in person loads their User row; on a page that needs nothing else
from the database that one query, with the connection check and the `SET search_path` before
it, is most of the database work. The row is kept in the cache (keys carry the schema) next to
a version number for that user. A cached row counts only while its version is the current one,
and every change to the user moves the version on: at once, and again after the transaction
commits. A request that read the row before a change committed therefore stores it under a
version that is already gone, and nobody takes it for current (the same pattern as the portal
home's generation).

Changes are seen through User's post_save and post_delete signals. Code that changes users
with `QuerySet.update()`, which sends no signal, calls `forget_user` itself.
"""

import uuid
from collections.abc import Callable
from typing import Any

from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import post_delete, post_save

USER_CACHE_SECONDS = 3600


def _entry_key(pk: object) -> str:
    return f"accounts:user:{pk}"


def _version_key(pk: object) -> str:
    return f"accounts:user-version:{pk}"


def cached_user(pk: object, load: Callable[[], Any]) -> Any:
    """The user with this primary key: from the cache when current, else `load()` (which
    returns the user or None) and cached."""
    entry_key, version_key = _entry_key(pk), _version_key(pk)
    found = cache.get_many([version_key, entry_key])
    version = found.get(version_key)
    if version is None:
        cache.add(version_key, uuid.uuid4().hex, timeout=None)
        version = cache.get(version_key)
    entry = found.get(entry_key)
    if entry is not None and entry[0] == version:
        return entry[1]
    # The version was read before the row: a change that commits after this read has moved
    # it on already, so the entry stored below is never taken for current.
    user = load()
    if user is not None and version is not None:
        cache.set(entry_key, (version, user), timeout=USER_CACHE_SECONDS)
    return user


def forget_user(pk: object) -> None:
    """Make every cached copy of this user stale, now and once the transaction commits."""
    version_key = _version_key(pk)

    def new_version() -> None:
        cache.set(version_key, uuid.uuid4().hex, timeout=None)

    new_version()
    transaction.on_commit(new_version)


def _on_user_change(sender: type, instance: Any, **kwargs: object) -> None:
    if instance.pk is not None:
        forget_user(instance.pk)


def connect_signals(user_model: type) -> None:
    post_save.connect(_on_user_change, sender=user_model, dispatch_uid="accounts-user-cache")
    post_delete.connect(_on_user_change, sender=user_model, dispatch_uid="accounts-user-cache")
