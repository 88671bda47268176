"""Values read once per request: practice settings that several parts of one page ask for.

PracticeHostMiddleware opens a scope around each practice request; inside it `remembered`
loads a value the first time and hands the same one back afterwards, keyed by the schema the
connection is on. Outside a request (tasks, shells) nothing is kept. Whoever changes such a
value calls `forget` with its key, so the rest of the request sees the change.

A page that knows which cache entries it will need can read them in one round trip with the
keys of its own (`get_many_with_prefetch`); `cache_get` then answers from what came back. Cache
keys are registered for that with `prefetch_cache_key`.
"""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar, Token
from typing import Any

from django.core.cache import cache

from tenants.schemas import connection

_values: ContextVar[dict[tuple[str, str], Any] | None] = ContextVar("request_memo", default=None)


def begin_scope() -> Token[dict[tuple[str, str], Any] | None]:
    """Start remembering values; pass the token to end_scope() when the request ends."""
    return _values.set({})


def end_scope(token: Token[dict[tuple[str, str], Any] | None]) -> None:
    _values.reset(token)


@contextmanager
def request_scope() -> Iterator[None]:
    token = begin_scope()
    try:
        yield
    finally:
        end_scope(token)


def remembered[T](key: str, load: Callable[[], T], *, schema: str | None = None) -> T:
    values = _values.get()
    if values is None:
        return load()
    scoped = (schema or connection.schema_name, key)
    if scoped not in values:
        values[scoped] = load()
    return values[scoped]  # type: ignore[no-any-return]


def forget(key: str, *, schema: str | None = None) -> None:
    values = _values.get()
    if values is not None:
        schema = schema or connection.schema_name
        values.pop((schema, key), None)
        values.pop((schema, _prefetch_key(key)), None)


PREFETCHED_KEYS: list[str] = []
_NOT_PREFETCHED = object()


def prefetch_cache_key(key: str) -> None:
    """Read this cache key along with the portal home's own (see get_many_with_prefetch)."""
    if key not in PREFETCHED_KEYS:
        PREFETCHED_KEYS.append(key)


def get_many_with_prefetch(keys: list[str]) -> dict[str, Any]:
    """cache.get_many(keys), also fetching the registered keys in the same round trip and
    keeping what came back (found or not) for cache_get during this request."""
    values = _values.get()
    if values is None:
        return cache.get_many(keys)  # type: ignore[no-any-return]
    found = cache.get_many([*keys, *PREFETCHED_KEYS])
    schema = connection.schema_name
    for key in PREFETCHED_KEYS:
        values[(schema, _prefetch_key(key))] = found.get(key)
    return {key: found[key] for key in keys if key in found}


def cache_get(key: str) -> Any:
    """cache.get(key), answered from this request's prefetch when it read the key."""
    values = _values.get()
    if values is not None:
        found = values.pop((connection.schema_name, _prefetch_key(key)), _NOT_PREFETCHED)
        if found is not _NOT_PREFETCHED:
            return found
    return cache.get(key)


def _prefetch_key(key: str) -> str:
    return f"prefetched:{key}"
