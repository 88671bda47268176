"""Values read once per request: practice settings that several parts of one page ask for.

PracticeHostMiddleware opens a scope around each practice request; inside it `remembered`
loads a value the first time and hands the same one back afterwards, keyed by the schema the
connection is on. Outside a request (tasks, shells) nothing is kept. Whoever changes such a
value calls `forget` with its key, so the rest of the request sees the change.
"""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from tenants.schemas import connection

_values: ContextVar[dict[tuple[str, str], Any] | None] = ContextVar("request_memo", default=None)


@contextmanager
def request_scope() -> Iterator[None]:
    token = _values.set({})
    try:
        yield
    finally:
        _values.reset(token)


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
        values.pop((schema or connection.schema_name, key), None)
