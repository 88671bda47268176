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
import logging
import os
import threading
import time
from typing import Any

import redis
from django.conf import settings
from django.core.cache import cache
from django.db import models
from django.db.models.base import ModelState

logger = logging.getLogger(__name__)

# A process that has not read its messages for this long starts again from Redis.
MAX_QUIET_SECONDS = 30.0
# How long to wait before opening the tracking connection again after it failed.
RETRY_SECONDS = 1.0


class HostMemo:
    """Resolutions by cache key, valid while the tracking connection says so.

    Every request gets objects of its own, as from the shared cache (see `fresh_copy`): a
    view that changes `request.tenant` cannot leak into the next request.
    """

    def __init__(self, url: str, prefix: str) -> None:
        self.url = url
        self.prefix = prefix
        self._lock = threading.Lock()
        self._entries: dict[str, Any] = {}
        self._connection: Any = None
        self._pid = 0
        self._drained_at = 0.0
        self._retry_at = 0.0
        # Counts every message that may have dropped an entry; see remember().
        self.generation = 0

    def get(self, key: str) -> Any:
        """The resolution under `key` if this process holds a valid one, else None."""
        with self._lock:
            if not self._sync():
                return None
            value = self._entries.get(key)
        return None if value is None else fresh_copy(value)

    def generation_now(self) -> int:
        """Read pending messages, then the generation to pass to remember()."""
        with self._lock:
            self._sync()
            return self.generation

    def remember(self, key: str, value: Any, *, generation: int) -> None:
        """Keep a value read from Redis, unless a message that arrived since `generation`
        was taken may concern it (the value could have been read before that change)."""
        kept = fresh_copy(value)
        with self._lock:
            if self._sync() and self.generation == generation:
                self._entries[key] = kept

    def clear(self) -> None:
        with self._lock:
            self._forget_all()

    # The tracking connection ----------------------------------------------------------------

    def _sync(self) -> bool:
        """Apply every message that has arrived; False when the copy cannot be trusted."""
        if self._pid != os.getpid():
            # A forked child must not read its parent's socket.
            self._connection, self._pid = None, os.getpid()
            self._forget_all()
        if self._connection is None and not self._connect():
            return False

        now = time.monotonic()
        if now - self._drained_at > MAX_QUIET_SECONDS:
            self._forget_all()
        try:
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
        self._connection, self._drained_at = connection, now
        return True

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


def fresh_copy(value: Any) -> Any:
    """A copy of a resolution that shares nothing mutable with `value`.

    Resolutions are frozen dataclasses holding model instances whose fields are strings,
    numbers, dates and lists (a plan's features). Copying those by hand costs a few
    microseconds; unpickling a practice and its plan, several times that, on every request.
    """
    if isinstance(value, _IMMUTABLE):
        return value
    if isinstance(value, models.Model):
        copy = value.__class__.__new__(value.__class__)
        attributes = value.__dict__.copy()
        for name, item in attributes.items():
            if not isinstance(item, _IMMUTABLE) and name != "_state":
                attributes[name] = fresh_copy(item)
        copy.__dict__.update(attributes)
        state = copy._state = ModelState()
        for name, item in value._state.__dict__.items():
            if name == "fields_cache":
                state.fields_cache = {key: fresh_copy(cached) for key, cached in item.items()}
            elif name != "peers":  # weak references to instances fetched together
                setattr(state, name, item)
        return copy
    if isinstance(value, list):
        return [fresh_copy(item) for item in value]
    if isinstance(value, dict):
        return {key: fresh_copy(item) for key, item in value.items()}
    if isinstance(value, (set, tuple)):
        return value.__class__(fresh_copy(item) for item in value)
    if not hasattr(value, "__dict__"):
        return value  # nothing to change in place (a singleton such as a fetch mode)
    # A dataclass or another plain object: a new one with copied attributes (this also
    # works for frozen dataclasses, whose __setattr__ refuses).
    copy = object.__new__(value.__class__)
    copy.__dict__.update({name: fresh_copy(item) for name, item in vars(value).items()})
    return copy


_memo: HostMemo | None = None
_memo_lock = threading.Lock()


def host_memo(prefix: str) -> HostMemo | None:
    """This process's memo for cache keys starting with `prefix`; None when switched off."""
    global _memo
    if not settings.HOST_MEMO:
        return None
    if _memo is None or _memo.prefix != prefix:
        with _memo_lock:
            if _memo is None or _memo.prefix != prefix:
                _memo = HostMemo(settings.CACHES["default"]["LOCATION"], prefix)
    return _memo


def current() -> HostMemo | None:
    """This process's memo if one was made and it is switched on, else None."""
    return _memo if _memo is not None and settings.HOST_MEMO else None


def barrier() -> None:
    """Return once every tracking process has been sent the invalidations of the writes
    this process made so far (see the module docstring)."""
    cache._cache.get_client(write=True).ping()  # type: ignore[attr-defined]


def forget_everything() -> None:
    """Empty this process's copy (tests do, after emptying the cache)."""
    if _memo is not None:
        _memo.clear()
