"""Changes suggested by the HTTP benchmark, measured without touching the application.

`bench/http.py --what-if` serves the practice endpoints twice more: once with the Redis client
kept between cache calls, once with host resolutions memoized in each process for a few
seconds. Neither is used by the application; they exist to put a number on a suggestion.
"""

import time
from collections.abc import Callable
from typing import Any

from django.apps import AppConfig
from django.core.cache.backends.redis import RedisCache, RedisCacheClient

MEMO_SECONDS = 5.0


class _ReusingClient(RedisCacheClient):
    """Django's client builds a new `redis.Redis` for every cache call; redis-py builds its
    response-callback table in that constructor. This keeps one client per connection pool."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[int, Any] = {}

    def get_client(self, key: Any = None, *, write: bool = False) -> Any:
        index = self._get_connection_pool_index(write)  # type: ignore[attr-defined]
        client = self._clients.get(index)
        if client is None:
            client = self._clients[index] = super().get_client(key, write=write)
        return client


class ReusedClientRedisCache(RedisCache):
    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = _ReusingClient


def _memoized(resolve: Callable[[str], Any], seconds: float) -> Callable[[str], Any]:
    entries: dict[str, tuple[float, Any]] = {}

    def resolve_host(host: str) -> Any:
        now = time.monotonic()
        entry = entries.get(host)
        if entry is not None and entry[0] > now:
            return entry[1]
        resolution = resolve(host)
        entries[host] = (now + seconds, resolution)
        return resolution

    return resolve_host


class HostMemoConfig(AppConfig):
    """Memoizes host resolutions per process for MEMO_SECONDS in front of the Redis cache.

    A real version would need the invalidation to reach every process (for example a
    generation number checked at most every few seconds); here a rename would keep resolving
    in a process for up to MEMO_SECONDS.
    """

    name = "bench"
    label = "bench_whatif"

    def ready(self) -> None:
        import tenants.middleware

        tenants.middleware.resolve_host = _memoized(  # type: ignore[assignment]
            tenants.middleware.resolve_host, MEMO_SECONDS
        )
