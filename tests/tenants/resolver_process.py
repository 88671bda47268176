"""A second process that resolves hosts, for tests/tenants/test_host_memo.py.

It reads one host name per line and answers each with one line: how the host resolved, and
whether the answer came from this process's own copy (`memo`) or from Redis or the database
(`shared`). It uses the pytest database and Redis, as passed in its environment.
"""

import sys


def main() -> None:
    import django

    django.setup()
    from django.core.cache import cache

    from tenants import host_memo
    from tenants.hosts import CACHE_VERSION, resolve_host
    from tenants.schemas import connection

    connection.set_schema_to_public()
    print("ready", flush=True)
    for line in sys.stdin:
        host = line.strip()
        memo = host_memo.host_memo(cache.make_key("host:", version=CACHE_VERSION))
        assert memo is not None, "the host memo is switched off"
        held = memo.get(cache.make_key(f"host:{host}", version=CACHE_VERSION)) is not None
        resolution = resolve_host(host)
        # A lookup may have cached its answer in Redis; let that write's message arrive before
        # the next line, so that the next lookup can keep what it reads.
        host_memo.barrier()
        print(resolution.kind.value, "memo" if held else "shared", flush=True)


if __name__ == "__main__":
    main()
