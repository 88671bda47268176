"""What both benchmark scripts share: bench databases and Redis, child processes, figures.

Everything talks to 127.0.0.1 only. The bench owns its databases (dropped and recreated on each
run) and one Redis database (flushed before and after), so runs never touch anyone's data.
"""

import atexit
import math
import os
import platform
import resource
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from types import FrameType, TracebackType

import psutil
import psycopg
import redis

ROOT = Path(__file__).resolve().parent.parent
PYTHON = ROOT / ".venv" / "bin" / "python"
GUNICORN = ROOT / ".venv" / "bin" / "gunicorn"

PG_SERVER = os.environ.get("BENCH_PG_SERVER", "postgres://postgres@127.0.0.1:5432")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")

_children: list[subprocess.Popen[bytes]] = []


# Databases and Redis ---------------------------------------------------------------------------


def database_url(name: str) -> str:
    return f"{PG_SERVER}/{name}"


def recreate_database(name: str) -> None:
    with psycopg.connect(database_url("postgres"), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def drop_database(name: str) -> None:
    with psycopg.connect(database_url("postgres"), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def flush_redis() -> None:
    """Empty the bench's own Redis database: host resolutions, sessions, queued emails."""
    redis.Redis.from_url(REDIS_URL).flushdb()


def django_env(*, database: str, settings: str, cache_prefix: str) -> dict[str, str]:
    """The environment every Django process of a run gets: the bench DB and Redis database.

    Celery's broker defaults to the same Redis database, where no worker listens: the owner's
    invitation is queued (one LPUSH after commit) and never sent.
    """
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "DATABASE_", "CELERY_", "EMAIL_"))
    }
    env.update(
        DJANGO_SETTINGS_MODULE=settings,
        DJANGO_DEBUG="false",
        DATABASE_URL=database_url(database),
        REDIS_URL=REDIS_URL,
        CACHE_KEY_PREFIX=cache_prefix,
        LOG_LEVEL="WARNING",
        PYTHONPATH=str(ROOT),
        PYTHONDONTWRITEBYTECODE="1",
    )
    return env


# Child processes -------------------------------------------------------------------------------


def start(
    command: Sequence[str | Path], *, env: dict[str, str], log: Path
) -> subprocess.Popen[bytes]:
    """Start a child in its own process group; it is stopped at exit, even after an error."""
    with log.open("ab") as out:
        child = subprocess.Popen(
            [str(part) for part in command],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    _children.append(child)
    return child


def stop(child: subprocess.Popen[bytes], *, timeout: float = 10.0) -> None:
    """Stop a child we started and everything in its process group (gunicorn's workers)."""
    if child.poll() is None:
        try:
            os.killpg(child.pid, signal.SIGTERM)
            child.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(child.pid, signal.SIGKILL)
            child.wait()
        except ProcessLookupError:
            pass
    if child in _children:
        _children.remove(child)


def stop_all() -> None:
    for child in list(_children):
        stop(child)


def _on_signal(signum: int, frame: FrameType | None) -> None:
    stop_all()
    sys.exit(128 + signum)


def install_cleanup() -> None:
    atexit.register(stop_all)
    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)


def run(command: Sequence[str | Path], *, env: dict[str, str], timeout: float) -> str:
    """Run a child to completion and return its stdout; show its output if it fails."""
    result = subprocess.run(
        [str(part) for part in command],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if result.returncode != 0:
        sys.stderr.write(result.stdout[-4000:] + result.stderr[-4000:])
        raise RuntimeError(f"{command[0]} {command[1]} exited with {result.returncode}")
    return result.stdout


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# Background load -------------------------------------------------------------------------------


def redis_pids() -> list[int]:
    return [p.pid for p in psutil.process_iter(["name"]) if p.info["name"] == "redis-server"]


def process_tree(pid: int) -> list[int]:
    try:
        parent = psutil.Process(pid)
        return [pid, *(child.pid for child in parent.children(recursive=True))]
    except psutil.NoSuchProcess:
        return []


class CpuWatch:
    """Where the CPU went while a measurement ran.

    `groups` names the processes measured (for example the servers, their PostgreSQL
    backends, Redis); each group's CPU seconds are taken from its processes as they were at the
    start. The machine is shared, so the rest of the busy CPU is reported too: the share of all
    cores that other processes used meanwhile ("foreign"; this process and its reaped
    children, such as wrk, do not count as foreign) and the share the hypervisor withheld
    ("steal").
    """

    def __init__(self, groups: Mapping[str, Callable[[], Iterable[int]]]) -> None:
        self._groups = groups
        self.seconds: dict[str, float] = {}
        # This process and its reaped children.
        self.own_seconds = 0.0
        self.foreign_pct = 0.0
        self.steal_pct = 0.0

    @staticmethod
    def _cpu(pids: Iterable[int]) -> float:
        total = 0.0
        for pid in pids:
            try:
                times = psutil.Process(pid).cpu_times()
            except psutil.NoSuchProcess:
                continue
            total += times.user + times.system
        return total

    @staticmethod
    def _ours() -> float:
        total = 0.0
        for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN):
            usage = resource.getrusage(who)
            total += usage.ru_utime + usage.ru_stime
        return total

    @staticmethod
    def _busy_and_steal() -> tuple[float, float]:
        t = psutil.cpu_times()
        return t.user + t.nice + t.system + t.irq + t.softirq, t.steal

    def __enter__(self) -> "CpuWatch":
        self._pids = {name: sorted(set(pids())) for name, pids in self._groups.items()}
        self._start = {name: self._cpu(pids) for name, pids in self._pids.items()}
        self._start_ours = self._ours()
        self._start_busy, self._start_steal = self._busy_and_steal()
        self._start_wall = time.monotonic()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        capacity = (time.monotonic() - self._start_wall) * (os.cpu_count() or 1)
        busy, steal = self._busy_and_steal()
        self.seconds = {
            name: self._cpu(pids) - self._start[name] for name, pids in self._pids.items()
        }
        self.own_seconds = self._ours() - self._start_ours
        known = sum(self.seconds.values()) + self.own_seconds
        self.foreign_pct = max(0.0, busy - self._start_busy - known) / capacity * 100
        self.steal_pct = (steal - self._start_steal) / capacity * 100


# Figures ---------------------------------------------------------------------------------------


def percentile(values: Sequence[float], pct: float) -> float:
    """The pct-th percentile, interpolating linearly between closest ranks."""
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    rank = (len(ordered) - 1) * pct / 100
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    cells = [[str(h) for h in headers], *[[str(c) for c in row] for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = [
        "  ".join(
            c.rjust(w) if i else c.ljust(w)
            for i, (c, w) in enumerate(zip(row, widths, strict=True))
        )
        for row in cells
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def code_version() -> str:
    def git(*args: str) -> str:
        command = ["git", *args]
        return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=True).stdout

    try:
        commit = git("rev-parse", "--short", "HEAD").strip()
        dirty = git("status", "--porcelain", "--untracked-files=no").strip()
    except (OSError, subprocess.CalledProcessError):
        return f"code: {ROOT} (not a git checkout)"
    return f"code: {commit}" + (" with uncommitted changes" if dirty else "")


def machine_facts() -> str:
    cpu = "unknown CPU"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    with psycopg.connect(database_url("postgres")) as conn:
        rows = conn.execute(
            "SELECT name, setting FROM pg_settings WHERE name IN "
            "('server_version', 'fsync', 'synchronous_commit', 'shared_buffers')"
        ).fetchall()
    pg: dict[str, str] = dict(rows)
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return (
        f"machine: {os.cpu_count()} cores ({cpu}), load average {load}; "
        f"Python {platform.python_version()}\n"
        f"PostgreSQL {pg['server_version']} on 127.0.0.1 (fsync={pg['fsync']}, "
        f"synchronous_commit={pg['synchronous_commit']}, shared_buffers={pg['shared_buffers']}"
        " x 8kB); Redis on 127.0.0.1\n"
        f"{code_version()}"
    )
