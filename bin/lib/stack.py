"""Which PostgreSQL and Redis bin/demo and bin/test use, and the environment that says so.

For each of the two, in order:

1. the URL in the environment (`DATABASE_URL`, `REDIS_URL`);
2. the machine's own server on its standard port (127.0.0.1:5432, 127.0.0.1:6379), unless
   `SWASTH_EMBEDDED=1` asks to skip it;
3. an embedded server (bin/lib/embedded.py) with its data under `.data/`, stopped again on
   the way out unless another run still uses it.

The caller gets the variables to export to its child processes: `DATABASE_URL`, `REDIS_URL`
and, where the pg_dump on PATH is missing or older than the server, `PG_DUMP`.
"""

import os
import shutil
import socket
import subprocess
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
from embedded import (
    EmbeddedPostgres,
    EmbeddedServiceError,
    EmbeddedValkey,
    Users,
    binary_major,
    pgserver_bin_dir,
    service_account,
)
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from psycopg.rows import TupleRow

DATABASE_NAME = "swasth"
MACHINE_POSTGRES = ("127.0.0.1", 5432)
MACHINE_REDIS = ("127.0.0.1", 6379)
# Below Linux's ephemeral range (32768 and up), where an outgoing connection could hold them.
EMBEDDED_POSTGRES_PORT = 25432
EMBEDDED_REDIS_PORT = 26379
# The test settings keep their cache and broker keys in Redis database 15.
TEST_REDIS_DATABASE = 15


class ServiceError(RuntimeError):
    """A service the scripts need is not usable; the message says what to do."""


def say(message: str) -> None:
    print(f"==> {message}", flush=True)


def _listens(address: tuple[str, int]) -> bool:
    try:
        with socket.create_connection(address, timeout=1):
            return True
    except OSError:
        return False


def _embedded_forced() -> bool:
    return os.environ.get("SWASTH_EMBEDDED", "").lower() in {"1", "true", "yes"}


def _env_port(name: str, default: int) -> int:
    value = os.environ.get(name, "")
    if not value:
        return default
    if not value.isdigit():
        raise ServiceError(f"{name}={value!r} is not a port number")
    return int(value)


def redact(url: str) -> str:
    """The URL without its password, for printing."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


@contextmanager
def services(root: Path, *, for_tests: bool) -> Iterator[dict[str, str]]:
    """Find or start PostgreSQL and Redis; yield the variables to export to child processes.

    For the demo the `swasth` database is created if it is missing; for tests pytest-django
    creates its own `test_` database and Redis database 15 is used.
    """
    data = root / ".data"
    with ExitStack() as stack:
        env: dict[str, str] = {}
        env.update(_postgres(data, stack, create_database=not for_tests))
        env["REDIS_URL"] = _redis(data, stack, for_tests=for_tests)
        yield env


def _postgres(data: Path, stack: ExitStack, *, create_database: bool) -> dict[str, str]:
    env: dict[str, str] = {}
    url = os.environ.get("DATABASE_URL", "")
    if url:
        say(f"PostgreSQL: DATABASE_URL from the environment ({redact(url)})")
    elif not _embedded_forced() and _listens(MACHINE_POSTGRES):
        url = f"postgres://postgres@127.0.0.1:5432/{DATABASE_NAME}"
        say("PostgreSQL: the machine's server on 127.0.0.1:5432")
    else:
        server = _start_embedded_postgres(data, stack)
        url = server.url(DATABASE_NAME)
        env["PG_DUMP"] = os.environ.get("PG_DUMP") or str(server.pg_dump)

    env["DATABASE_URL"] = url
    server_major = _server_major(url)
    if "PG_DUMP" not in env:
        pg_dump = _pg_dump_for(server_major)
        if pg_dump:
            env["PG_DUMP"] = pg_dump
    if create_database:
        _ensure_database(url)
    return env


def _start_embedded_postgres(data: Path, stack: ExitStack) -> EmbeddedPostgres:
    reason = "SWASTH_EMBEDDED is set" if _embedded_forced() else "nothing on 127.0.0.1:5432"
    try:
        server = EmbeddedPostgres(
            data / "postgres",
            preferred_port=_env_port("SWASTH_EMBEDDED_PG_PORT", EMBEDDED_POSTGRES_PORT),
            account=service_account(),
        )
        users = Users(server, data / "postgres.users")
        started, others = users.join()
    except EmbeddedServiceError as error:
        raise ServiceError(f"Could not start the embedded PostgreSQL: {error}") from error

    stack.callback(_leave, "PostgreSQL", users)
    say(
        f"PostgreSQL: embedded PostgreSQL {server.major_version} on 127.0.0.1:{server.port} "
        f"({reason}; {_how(started, others)}; data in .data/postgres, runs as "
        f"{server.account.name})"
    )
    return server


def _redis(data: Path, stack: ExitStack, *, for_tests: bool) -> str:
    database = TEST_REDIS_DATABASE if for_tests else 0
    url = os.environ.get("REDIS_URL", "")
    if url:
        say(f"Redis: REDIS_URL from the environment ({redact(url)})")
        return url
    if not _embedded_forced() and _listens(MACHINE_REDIS):
        say(f"Redis: the machine's server on 127.0.0.1:6379 (database {database})")
        return f"redis://127.0.0.1:6379/{database}"

    reason = "SWASTH_EMBEDDED is set" if _embedded_forced() else "nothing on 127.0.0.1:6379"
    try:
        server = EmbeddedValkey(
            data / "valkey",
            preferred_port=_env_port("SWASTH_EMBEDDED_REDIS_PORT", EMBEDDED_REDIS_PORT),
            account=service_account(),
        )
        users = Users(server, data / "valkey.users")
        started, others = users.join()
    except EmbeddedServiceError as error:
        raise ServiceError(f"Could not start the embedded Valkey: {error}") from error

    stack.callback(_leave, "Valkey", users)
    say(
        f"Redis: embedded Valkey on 127.0.0.1:{server.port}, database {database} "
        f"({reason}; {_how(started, others)}; data in .data/valkey)"
    )
    return server.url(database)


def _how(started: bool, others: int) -> str:
    if started:
        return "started"
    if others:
        return f"already running, shared with {others} other run(s)"
    return "already running, left by an earlier run"


def _leave(name: str, users: Users) -> None:
    """Stop the embedded server unless another run still uses it."""
    try:
        if users.leave():
            say(f"Stopped the embedded {name}")
    except EmbeddedServiceError as error:
        print(f"    could not stop the embedded {name}: {error}")


def _connect(url: str, database: str = "postgres") -> psycopg.Connection[TupleRow]:
    """A connection to the server of `url`, on its maintenance database by default."""
    conninfo = make_conninfo(url, dbname=database, connect_timeout=10)
    try:
        return psycopg.connect(conninfo, autocommit=True)
    except psycopg.Error as error:
        raise ServiceError(f"Cannot connect to PostgreSQL at {redact(url)}: {error}") from error


def _server_major(url: str) -> int:
    with _connect(url) as connection:
        return connection.info.server_version // 10000


def _ensure_database(url: str) -> None:
    name = conninfo_to_dict(make_conninfo(url)).get("dbname") or DATABASE_NAME
    with _connect(url) as connection:
        exists = connection.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [name]
        ).fetchone()
        if exists is None:
            say(f"Creating the database {name}")
            connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(str(name))))


def _pg_dump_for(server_major: int) -> str | None:
    """A pg_dump to export as PG_DUMP, when the one the app would find cannot dump the server.

    pg_dump refuses servers newer than itself. The wheel's pg_dump serves when the one on
    PATH is missing or too old; None means leave PG_DUMP alone.
    """
    if os.environ.get("PG_DUMP"):
        return None
    on_path = shutil.which("pg_dump")
    if on_path and _major_or_zero(on_path) >= server_major:
        return None
    try:
        bundled = pgserver_bin_dir() / "pg_dump"
    except EmbeddedServiceError:
        return None
    if bundled.exists() and _major_or_zero(bundled) >= server_major:
        say(
            f"pg_dump: using pgserver's ({bundled}), as PATH has none for PostgreSQL {server_major}"
        )
        return str(bundled)
    return None


def _major_or_zero(binary: str | Path) -> int:
    # A Debian pg_wrapper without a matching cluster exits non-zero.
    try:
        return binary_major(binary)
    except (OSError, subprocess.CalledProcessError, EmbeddedServiceError):
        return 0
