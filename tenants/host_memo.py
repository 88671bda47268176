"""A copy of host resolutions in each process, dropped the moment Redis says a host changed.

Resolutions live in the shared cache (Redis) under `host:<name>` in the public key space;
reading them there costs a round trip on every request. This module keeps each one in the
process too, and learns when to drop it from Redis itself: one extra connection per process
turns on client-side caching support in broadcasting mode (`CLIENT TRACKING ON BCAST PREFIX`,
RESP3) for the host keys, and Redis then pushes an `invalidate` message to every process
whenever such a key is written, deleted or expires, or the database is flushed. redis-py's
own client-side cache would do the same, but it refuses servers older than Redis 7.4.

Before a process answers from its copy it reads whatever has arrived on that connection (a
poll that does not wait; no round trip). A change is seen everywhere at once because the
writer waits for delivery: after its DEL, `barrier()` sends a PING. Redis answers the PING in
a later turn of its event loop than the one that wrote the invalidations to every tracking
socket, so by the time the writer goes on, each process's socket holds the message.

When in doubt the copy is emptied: on a lost connection, on a flush, after a quiet spell long
enough that unread messages might no longer fit the socket's buffer. While the connection is
down every lookup goes to Redis, as it would without this module.
"""

import datetime
import enum
import functools
import logging
import os
import select
import threading
import time
from collections.abc import Callable
from typing import Any

import redis
from django.conf import settings
from django.core.cache import cache
from django.core.signals import setting_changed
from django.db import models
from django.db.models.base import ModelState
from django.dispatch import receiver
from django.utils.functional import SimpleLazyObject

logger = logging.getLogger(__name__)

# A process that has not read its messages for this long starts again from Redis.
MAX_QUIET_SECONDS = 30.0
# How long to wait before opening the tracking connection again after it failed.
RETRY_SECONDS = 1.0


class HostMemo:
    """Resolutions by cache key, valid while the tracking connection says so.

    Every request gets objects of its own, as from the shared cache (see `copy_maker`): a
    view that changes `request.tenant` cannot leak into the next request.
    """

    def __init__(self, url: str, prefix: str) -> None:
        self.url = url
        self.prefix = prefix
        self._lock = threading.Lock()
        self._entries: dict[str, Maker] = {}
        self._connection: Any = None
        self._poller = select.poll()
        self._drained_at = 0.0
        self._retry_at = 0.0
        # Counts every message that may have dropped an entry; see remember().
        self.generation = 0

    def get(self, key: str) -> Any:
        """The resolution under `key` if this process holds a valid one, else None."""
        with self._lock:
            if not self._sync():
                return None
            make = self._entries.get(key)
        return None if make is None else make()

    def generation_now(self) -> int:
        """Read pending messages, then the generation to pass to remember()."""
        with self._lock:
            self._sync()
            return self.generation

    def remember(self, key: str, value: Any, *, generation: int) -> None:
        """Keep a value read from Redis, unless a message that arrived since `generation`
        was taken may concern it (the value could have been read before that change)."""
        kept = copy_maker(value)
        with self._lock:
            if self._sync() and self.generation == generation:
                self._entries[key] = kept

    def clear(self) -> None:
        with self._lock:
            self._forget_all()

    # The tracking connection ----------------------------------------------------------------

    def _sync(self) -> bool:
        """Apply every message that has arrived; False when the copy cannot be trusted."""
        if self._connection is None and not self._connect():
            return False

        now = time.monotonic()
        if now - self._drained_at > MAX_QUIET_SECONDS:
            self._forget_all()
        try:
            # One poll() system call when nothing has arrived, the usual case; redis-py's own
            # check costs two timeout changes and a failed recv(). Nothing is left in the
            # parser's buffer between calls: the loop below ends only once it is empty.
            if self._poller.poll(0):
                while self._connection.can_read(timeout=0):
                    self._connection.read_response(push_request=True)
        except (redis.RedisError, OSError):
            logger.warning("Lost the host tracking connection; reading hosts from Redis")
            self._disconnect()
            return False
        self._drained_at = now
        return True

    def _connect(self) -> bool:
        now = time.monotonic()
        if now < self._retry_at:
            return False
        pool = redis.ConnectionPool.from_url(self.url, protocol=3)
        connection = pool.make_connection()
        try:
            connection.connect()
            # redis-py reads push messages in its parser and hands invalidations to this hook.
            connection._parser.set_invalidation_push_handler(self._on_invalidate)  # type: ignore[attr-defined]
            connection.send_command("CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", self.prefix)
            reply = connection.read_response()
            if isinstance(reply, Exception):
                raise reply
        except (redis.RedisError, OSError):
            logger.warning("Host tracking is unavailable; reading hosts from Redis", exc_info=True)
            connection.disconnect()
            self._retry_at = now + RETRY_SECONDS
            return False
        # Whatever changed while there was no connection is unknown.
        self._forget_all()
        self._poller = select.poll()
        self._poller.register(connection._sock, select.POLLIN | select.POLLPRI)  # type: ignore[attr-defined]
        self._connection, self._drained_at = connection, now
        return True

    def forked(self) -> None:
        """In a new child process: start over without touching the parent's socket."""
        self._lock = threading.Lock()
        self._connection = None
        self._forget_all()

    def _disconnect(self) -> None:
        connection, self._connection = self._connection, None
        self._forget_all()
        self._retry_at = time.monotonic() + RETRY_SECONDS
        if connection is not None:
            connection.disconnect()

    def _on_invalidate(self, message: list[Any]) -> None:
        # ["invalidate", [key, ...]], or ["invalidate", None] when the database was flushed.
        keys = message[1] if len(message) > 1 else None
        self.generation += 1
        if keys is None:
            self._entries.clear()
            return
        for key in keys:
            self._entries.pop(key.decode() if isinstance(key, bytes) else key, None)

    def _forget_all(self) -> None:
        self.generation += 1
        self._entries.clear()


# Values that are never changed in place, so a copy may share them.
_IMMUTABLE = (str, int, float, bytes, type(None), datetime.date, datetime.time, enum.Enum)

Maker = Callable[[], Any]


def copy_maker(value: Any) -> Maker:
    """A function that returns a new copy of `value` as it is now, sharing nothing mutable.

    Resolutions are frozen dataclasses holding model instances whose fields are strings,
    numbers, dates and lists (a plan's features). The walk over that tree, deciding what to
    copy, is done here once per resolution; each request then pays only for building the new
    objects, and for a model instance only once it is first used (a lazy object, as Django's
    request.user). Unpickling a practice and its plan costs several times as much.
    """
    if isinstance(value, _IMMUTABLE):
        return lambda: value
    if isinstance(value, models.Model):
        # Made on first use, as Django makes request.user: a request that never reads the
        # practice (a health check, an autosave) does not pay for its copy.
        make_model = _model_maker(value)
        return lambda: SimpleLazyObject(make_model)
    if isinstance(value, list):
        items = [copy_maker(item) for item in value]
        return lambda: [make() for make in items]
    if isinstance(value, dict):
        entries = [(key, copy_maker(item)) for key, item in value.items()]
        return lambda: {key: make() for key, make in entries}
    if isinstance(value, (set, tuple)):
        kind, members = value.__class__, [copy_maker(item) for item in value]
        return lambda: kind(make() for make in members)
    if not hasattr(value, "__dict__"):
        return lambda: value  # nothing to change in place (a singleton such as a fetch mode)
    if _frozen_dataclass(value) and all(
        isinstance(item, _IMMUTABLE) for item in vars(value).values()
    ):
        return lambda: value  # immutable all the way down (a resolution's route)
    # A dataclass or another plain object: a new one with copied attributes (this also
    # works for frozen dataclasses, whose __setattr__ refuses).
    return _object_maker(value.__class__, vars(value), skip=())


def _frozen_dataclass(value: Any) -> bool:
    params = getattr(type(value), "__dataclass_params__", None)
    return params is not None and bool(params.frozen)


def _object_maker(cls: type, attributes: dict[str, Any], *, skip: tuple[str, ...]) -> Maker:
    shared: dict[str, Any] = {}
    copied: list[tuple[str, Maker]] = []
    for name, item in attributes.items():
        if name in skip:
            continue
        if isinstance(item, _IMMUTABLE):
            shared[name] = item
        else:
            copied.append((name, copy_maker(item)))
    new = object.__new__

    def make() -> Any:
        copy: Any = new(cls)
        contents = copy.__dict__
        contents.update(shared)
        for name, make_item in copied:
            contents[name] = make_item()
        return copy

    return make


def _model_maker(instance: models.Model) -> Maker:
    make_instance = _object_maker(instance.__class__, instance.__dict__, skip=("_state",))
    state = instance._state.__dict__
    # Peers are weak references to instances fetched together: not carried over.
    make_state = _object_maker(ModelState, state, skip=("fields_cache", "peers"))
    # Related instances are copied with the instance itself, not on their own first use.
    related = [
        (name, _model_maker(item) if isinstance(item, models.Model) else copy_maker(item))
        for name, item in state.get("fields_cache", {}).items()
    ]

    def make() -> Any:
        copy = make_instance()
        copy._state = make_state()
        copy._state.fields_cache = {name: make_item() for name, make_item in related}
        return copy

    return make


_memo: HostMemo | None = None
_memo_lock = threading.Lock()


@functools.cache
def _switched_on() -> bool:
    # Read on every request; a cached call costs a fraction of a settings lookup.
    return bool(settings.HOST_MEMO)


@receiver(setting_changed)
def _on_setting_changed(setting: str, **kwargs: object) -> None:
    if setting == "HOST_MEMO":
        _switched_on.cache_clear()


def host_memo(prefix: str) -> HostMemo | None:
    """This process's memo for cache keys starting with `prefix`; None when switched off."""
    global _memo
    if not _switched_on():
        return None
    if _memo is None or _memo.prefix != prefix:
        with _memo_lock:
            if _memo is None or _memo.prefix != prefix:
                _memo = HostMemo(settings.CACHES["default"]["LOCATION"], prefix)
    return _memo


def _after_fork_in_child() -> None:
    # Gunicorn forks its workers after the application is loaded.
    if _memo is not None:
        _memo.forked()


os.register_at_fork(after_in_child=_after_fork_in_child)


def current() -> HostMemo | None:
    """This process's memo if one was made and it is switched on, else None."""
    return _memo if _memo is not None and _switched_on() else None


def barrier() -> None:
    """Return once every tracking process has been sent the invalidations of the writes
    this process made so far (see the module docstring)."""
    cache._cache.get_client(write=True).ping()  # type: ignore[attr-defined]


def forget_everything() -> None:
    """Empty this process's copy (tests do, after emptying the cache)."""
    if _memo is not None:
        _memo.clear()
