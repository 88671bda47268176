# ruff: noqa: E402
"""Requests per second, latency and CPU per request under gunicorn, measured with wrk.

One run creates a bench database, migrates it, provisions practices (one of them, sunrise,
with a client who signs in through the real form), and starts one gunicorn server per
endpoint side by side, with one identical command line and settings that differ only where
noted. It measures five endpoints, all requested as sunrise.localhost over loopback, in
alternating rounds:

    1  bare            no tenancy: the project's middleware minus the host middleware
    2  practice        PracticeHostMiddleware resolves sunrise.localhost from the cache
    3  portal home     `/` signed in as a client (the real page)
    4  stock home      django-tenants' TenantMainMiddleware + a login_required view with three
                       queries and a small template
    5  stock trivial   TenantMainMiddleware + the trivial view of 1 and 2

    .venv/bin/python bench/http.py [--duration 10] [--rounds 5] [--warmup 3]

See docs/bench.md for what the figures mean.
"""

import sys
from pathlib import Path

# As a script, this file's folder would head sys.path, and this very file would then shadow
# the standard library's http package. The repository root takes its place.
sys.path[0] = str(Path(__file__).resolve().parent.parent)

import argparse
import http.client
import json
import re
import shutil
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from typing import Any

import psycopg

from bench import harness

DATABASE = "swasth_bench_http"
HOST = "sunrise.localhost"
CLIENT_EMAIL = "carol@client.test"
CLIENT_PASSWORD = "bench-password-not-secret"
PLATFORM_DOMAIN = "localhost"

TARGET_TRIVIAL = 0.85
TARGET_HOME = 1.5


@dataclass(frozen=True)
class Server:
    name: str
    settings: str


@dataclass(frozen=True)
class Endpoint:
    key: str
    label: str
    server: Server
    path: str
    signed_in: bool
    # Text the response must contain: proof that the page is the one meant (wrk counts a
    # redirect to the sign-in page as a success).
    marker: str


@dataclass
class Run:
    """One wrk run against one endpoint, and the CPU others took meanwhile."""

    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    errors: int
    non_2xx: int
    foreign_pct: float = 0.0
    steal_pct: float = 0.0
    # CPU seconds the server's processes ("app"), its PostgreSQL backends ("db") and Redis
    # ("redis") used during the run.
    cpu: dict[str, float] = field(default_factory=dict)

    @property
    def rps(self) -> float:
        return self.requests / self.seconds


# Every endpoint of the main table has a server of its own, even where two share settings: a
# worker that has rendered signed-in pages holds more objects (compiled templates, sessions, the
# user cache) than one that only ever answered "ok", and every garbage collection and cache miss
# then costs more. Servers of their own give the trivial views of 1, 2 and 5 the same history.
BARE = Server("bare", "bench.settings_bare")
PRACTICE = Server("practice", "bench.settings_practice")
PORTAL = Server("portal", "bench.settings_practice")
STOCK = Server("stock", "bench.settings_stock")
STOCK_TRIVIAL = Server("stock-trivial", "bench.settings_stock")


def _endpoint(key: str, label: str, server: Server, path: str, *, signed_in: bool) -> Endpoint:
    return Endpoint(key, label, server, path, signed_in, "Hello, Carol" if signed_in else "ok")


ENDPOINTS = [
    _endpoint("bare", "1 bare Django view, no tenancy", BARE, "/bench/trivial/", signed_in=False),
    _endpoint(
        "practice", "2 practice-resolved trivial view", PRACTICE, "/bench/trivial/", signed_in=False
    ),
    _endpoint("home", "3 signed-in client portal home", PORTAL, "/", signed_in=True),
    _endpoint(
        "stock_home",
        "4 stock django-tenants signed-in page",
        STOCK,
        "/bench/stock-home/",
        signed_in=True,
    ),
    _endpoint(
        "stock_trivial",
        "5 stock django-tenants trivial view",
        STOCK_TRIVIAL,
        "/bench/trivial/",
        signed_in=False,
    ),
]


# Seeding and query counts (children with Django) ------------------------------------------------


def seed(practices: int) -> dict[str, Any]:
    """Provision sunrise with a client who has a password, and `practices - 1` others."""
    import django

    django.setup()
    from django_tenants.utils import schema_context

    from tenant_apps.accounts.models import Role, User
    from tenants.services import provision_practice

    sunrise = provision_practice(
        actor=None,
        name="Sunrise Therapy",
        slug="sunrise",
        owner_email="alice@sunrise.test",
        plan_code="professional",
        time_zone="America/New_York",
    )
    with schema_context(sunrise.schema_name):
        User.objects.create_user(
            CLIENT_EMAIL, password=CLIENT_PASSWORD, full_name="Carol Client", role=Role.CLIENT
        )
    for number in range(1, practices):
        slug = f"practice-{number:04d}"
        provision_practice(
            actor=None, name=f"Practice {number}", slug=slug, owner_email=f"owner@{slug}.test"
        )
    return {"schema": sunrise.schema_name}


def count_queries(cookie: str) -> dict[str, list[int]]:
    """Queries and `SET search_path` statements of one warm request to each endpoint, counted
    in-process with the test client under each server's settings (the servers themselves are
    not instrumented)."""
    import importlib

    import django

    django.setup()
    from django.db import connection
    from django.test import Client, override_settings
    from django.test.utils import CaptureQueriesContext

    counts: dict[str, list[int]] = {}
    for endpoint in ENDPOINTS:
        module = importlib.import_module(endpoint.server.settings)
        overrides = {
            name: getattr(module, name) for name in ("MIDDLEWARE", "ROOT_URLCONF", "TEMPLATES")
        }
        with override_settings(**overrides):
            client = Client(HTTP_HOST=HOST)
            if endpoint.signed_in:
                client.cookies.load(cookie)
            client.get(endpoint.path)
            with CaptureQueriesContext(connection) as queries:
                response = client.get(endpoint.path)
            assert endpoint.marker in response.content.decode(), endpoint.key
        sets = sum(q["sql"].startswith("SET search_path") for q in queries.captured_queries)
        counts[endpoint.key] = [len(queries) - sets, sets]
    return counts


# Talking to the servers -------------------------------------------------------------------------


def _request(
    port: int, method: str, path: str, *, headers: dict[str, str], body: str = ""
) -> tuple[int, dict[str, list[str]], str]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request(method, path, body=body or None, headers={"Host": HOST, **headers})
        response = conn.getresponse()
        by_name: dict[str, list[str]] = {}
        for name, value in response.getheaders():
            by_name.setdefault(name.lower(), []).append(value)
        return response.status, by_name, response.read().decode()
    finally:
        conn.close()


def sign_in(port: int) -> str:
    """Post the real sign-in form and return the browser's Cookie header."""
    jar: SimpleCookie = SimpleCookie()
    status, headers, page = _request(port, "GET", "/sign-in/", headers={})
    assert status == 200, f"GET /sign-in/ answered {status}"
    for value in headers.get("set-cookie", []):
        jar.load(value)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    assert token is not None and "csrftoken" in jar, "no CSRF token on the sign-in page"

    form = (
        f"csrfmiddlewaretoken={token.group(1)}&username={CLIENT_EMAIL.replace('@', '%40')}"
        f"&password={CLIENT_PASSWORD}"
    )
    status, headers, _ = _request(
        port,
        "POST",
        "/sign-in/",
        headers={
            "Cookie": f"csrftoken={jar['csrftoken'].value}",
            "Content-Type": "application/x-www-form-urlencoded",
        },
        body=form,
    )
    for value in headers.get("set-cookie", []):
        jar.load(value)
    assert status == 302 and "sessionid" in jar, f"sign-in answered {status}"
    return "; ".join(f"{name}={morsel.value}" for name, morsel in jar.items())


def check(port: int, endpoint: Endpoint, cookie: str) -> int:
    """Fail unless the endpoint answers 200 with its marker; return the response size."""
    headers = {"Cookie": cookie} if endpoint.signed_in else {}
    status, _, body = _request(port, "GET", endpoint.path, headers=headers)
    if status != 200 or endpoint.marker not in body:
        raise RuntimeError(f"{endpoint.key}: {endpoint.path} answered {status}: {body[:300]!r}")
    return len(body.encode())


def wait_until_serving(port: int, child: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if child.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {child.returncode}:\n{log.read_text()}")
        try:
            _request(port, "GET", "/bench/trivial/", headers={})
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"gunicorn did not answer within 60 s:\n{log.read_text()}")


# wrk --------------------------------------------------------------------------------------------

_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _latency_ms(text: str, pct: str) -> float:
    match = re.search(rf"^\s+{pct}%\s+([\d.]+)(us|ms|s|m)\s*$", text, re.MULTILINE)
    assert match is not None, f"no {pct}% latency in wrk output:\n{text}"
    return float(match.group(1)) * _UNITS[match.group(2)]


def wrk(port: int, endpoint: Endpoint, cookie: str, *, seconds: float, connections: int) -> Run:
    command = [
        "wrk", "--threads", "1", "--connections", str(connections),
        "--duration", f"{seconds:g}s", "--timeout", "5s", "--latency",
        "--header", f"Host: {HOST}",
    ]  # fmt: skip
    if endpoint.signed_in:
        command += ["--header", f"Cookie: {cookie}"]
    command.append(f"http://127.0.0.1:{port}{endpoint.path}")
    output = subprocess.run(
        command, capture_output=True, text=True, check=True, timeout=seconds + 30
    ).stdout

    total = re.search(r"^\s+(\d+) requests in ([\d.]+)(us|ms|s|m),", output, re.MULTILINE)
    errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    assert total is not None, f"unexpected wrk output:\n{output}"
    return Run(
        requests=int(total.group(1)),
        seconds=float(total.group(2)) * _UNITS[total.group(3)] / 1000,
        p50_ms=_latency_ms(output, "50"),
        p99_ms=_latency_ms(output, "99"),
        errors=sum(int(n) for n in errors.groups()) if errors else 0,
        non_2xx=int(non_2xx.group(1)) if non_2xx else 0,
    )


# The run ----------------------------------------------------------------------------------------


def gunicorn_command(port: int, args: argparse.Namespace) -> list[str]:
    return [
        str(harness.GUNICORN), "config.wsgi:application",
        "--bind", f"127.0.0.1:{port}",
        "--workers", str(args.workers), "--worker-class", "sync",
        "--log-level", "warning", "--no-control-socket",
    ]  # fmt: skip


@dataclass(frozen=True)
class Listening:
    port: int
    pid: int


def start_servers(
    endpoints: list[Endpoint], args: argparse.Namespace, env: dict[str, str], logs: Path
) -> dict[str, Listening]:
    """One gunicorn per server settings, all listening at once; idle ones cost no CPU."""
    servers: dict[str, Listening] = {}
    for server in dict.fromkeys(endpoint.server for endpoint in endpoints):
        port = harness.free_port()
        log = logs / f"gunicorn-{server.name}.log"
        server_env = {**env, "DJANGO_SETTINGS_MODULE": server.settings}
        child = harness.start(gunicorn_command(port, args), env=server_env, log=log)
        wait_until_serving(port, child, log)
        servers[server.name] = Listening(port, child.pid)
    return servers


def _database_backends() -> list[int]:
    with psycopg.connect(harness.database_url(DATABASE)) as conn:
        rows = conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            [DATABASE],
        ).fetchall()
    return [pid for (pid,) in rows]


def measure(
    endpoints: list[Endpoint], args: argparse.Namespace, servers: dict[str, Listening]
) -> tuple[str, dict[str, list[Run]]]:
    """Sign in, check every endpoint, warm each up, then measure them in alternating rounds so
    that a change in background load falls on all endpoints alike."""
    cookie = sign_in(servers[PORTAL.name].port)

    def port(endpoint: Endpoint) -> int:
        return servers[endpoint.server.name].port

    def groups(endpoint: Endpoint) -> dict[str, Callable[[], list[int]]]:
        pid = servers[endpoint.server.name].pid
        return {
            "app": lambda: harness.process_tree(pid),
            "db": _database_backends,
            "redis": harness.redis_pids,
        }

    for endpoint in endpoints:
        check(port(endpoint), endpoint, cookie)
        wrk(port(endpoint), endpoint, cookie, seconds=args.warmup, connections=args.connections)

    runs: dict[str, list[Run]] = {endpoint.key: [] for endpoint in endpoints}
    seconds = args.duration / args.rounds
    for number in range(args.rounds):
        order = endpoints if number % 2 == 0 else endpoints[::-1]
        for endpoint in order:
            with harness.CpuWatch(groups(endpoint)) as cpu:
                run = wrk(
                    port(endpoint), endpoint, cookie, seconds=seconds, connections=args.connections
                )
            run.foreign_pct, run.steal_pct, run.cpu = cpu.foreign_pct, cpu.steal_pct, cpu.seconds
            runs[endpoint.key].append(run)
            print(
                f"    round {number + 1}, {endpoint.label}: {run.rps:.0f} req/s"
                f" (others {cpu.foreign_pct:.0f}%, steal {cpu.steal_pct:.0f}%)",
                flush=True,
            )

    for endpoint in endpoints:
        check(port(endpoint), endpoint, cookie)
    return cookie, runs


THROUGHPUT_COLUMNS = [
    "endpoint", "req/s", "best round", "p50 ms", "p99 ms", "requests", "errors", "bytes",
    "others", "steal",
]  # fmt: skip
COST_COLUMNS = ["endpoint", "queries", "app", "db", "redis", "total", "req/s per core"]
RATIOS: list[tuple[str, str, str, float | None]] = [
    ("(2)/(1) practice / bare", "practice", "bare", TARGET_TRIVIAL),
    ("(5)/(1) stock trivial / bare", "stock_trivial", "bare", None),
    ("(3)/(4) portal home / stock", "home", "stock_home", TARGET_HOME),
    ("(2a)/(1) client reused / bare", "practice+client", "bare", TARGET_TRIVIAL),
    ("(2b)/(1) host memo / bare", "practice+memo", "bare", TARGET_TRIVIAL),
    ("(3a)/(4) home, client reused", "home+client", "stock_home", TARGET_HOME),
]


def report(
    endpoints: list[Endpoint], runs: dict[str, list[Run]], sizes: dict[str, int],
    queries: dict[str, list[int]], args: argparse.Namespace,
) -> None:  # fmt: skip
    overall = {
        key: sum(r.requests for r in rs) / sum(r.seconds for r in rs) for key, rs in runs.items()
    }
    best = {key: max(r.rps for r in rs) for key, rs in runs.items()}
    cpu_us = {
        key: {
            group: sum(r.cpu[group] for r in rs) / sum(r.requests for r in rs) * 1e6
            for group in ("app", "db", "redis")
        }
        for key, rs in runs.items()
    }

    throughput, cost = [], []
    for endpoint in endpoints:
        rs, us = runs[endpoint.key], cpu_us[endpoint.key]
        orm_queries, sets = queries[endpoint.key]
        throughput.append(
            [
                endpoint.label,
                f"{overall[endpoint.key]:.0f}",
                f"{best[endpoint.key]:.0f}",
                f"{statistics.median(r.p50_ms for r in rs):.2f}",
                f"{statistics.median(r.p99_ms for r in rs):.2f}",
                sum(r.requests for r in rs),
                sum(r.errors + r.non_2xx for r in rs),
                sizes[endpoint.key],
                f"{statistics.mean(r.foreign_pct for r in rs):.0f}%",
                f"{statistics.mean(r.steal_pct for r in rs):.0f}%",
            ]
        )
        cost.append(
            [
                endpoint.label,
                f"{orm_queries} + {sets}",
                *(f"{us[group]:.0f}" for group in ("app", "db", "redis")),
                f"{sum(us.values()):.0f}",
                f"{1e6 / sum(us.values()):.0f}",
            ]
        )

    print(
        f"\ngunicorn config.wsgi, {args.workers} sync workers, the same for every server; DEBUG"
        " off; CONN_MAX_AGE=300 with CONN_HEALTH_CHECKS; cached_db sessions and host cache in"
        f" Redis.\nwrk 1 thread, {args.connections} connections; per endpoint {args.warmup:g} s"
        f" warmup, then {args.duration:g} s measured in {args.rounds} alternating rounds;"
        " everything on 127.0.0.1."
    )
    print(harness.table(THROUGHPUT_COLUMNS, throughput))
    print(
        "req/s: all measured requests over all measured seconds; best round: the fastest round;"
        " p50/p99: wrk's, median over\nthe rounds. others/steal: share of all cores used"
        " meanwhile by processes outside the benchmark / withheld by the hypervisor."
    )
    print("\nCPU per request, microseconds (less sensitive to other load than req/s)")
    print(harness.table(COST_COLUMNS, cost))
    print(
        "queries: ORM queries + SET search_path of one warm request (test client, same"
        " settings); the servers add a health-check\nSELECT 1 to each request that uses the"
        " database. app: gunicorn workers; db: their PostgreSQL backends; redis: Redis."
        "\nreq/s per core: 1 s of CPU over the total, the throughput if nothing else ran."
    )

    print("\nratios                         req/s  best round  CPU per request")
    for label, a, b, target in RATIOS:
        if a not in runs:
            continue
        ratio, best_ratio = overall[a] / overall[b], best[a] / best[b]
        by_cpu = sum(cpu_us[b].values()) / sum(cpu_us[a].values())
        verdict = _verdict(ratio, by_cpu, target) if target else ""
        print(f"{label:30s} {ratio:5.2f}x {best_ratio:10.2f}x {by_cpu:15.2f}x   {verdict}")


def _verdict(ratio: float, by_cpu: float, target: float) -> str:
    def word(value: float) -> str:
        return "met" if value >= target else "NOT met"

    return f"target >= {target}: {word(ratio)} by req/s, {word(by_cpu)} by CPU"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=10, help="measured s per endpoint")
    parser.add_argument("--rounds", type=int, default=5, help="alternating rounds")
    parser.add_argument("--warmup", type=float, default=3, help="warmup s per endpoint")
    parser.add_argument("--connections", type=int, default=4, help="wrk connections")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers")
    parser.add_argument("--practices", type=int, default=50, help="practices in the database")
    parser.add_argument("--keep-database", action="store_true")
    parser.add_argument("--seed", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--count-queries", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.seed is not None:
        print(json.dumps(seed(args.seed)))
        return
    if args.count_queries is not None:
        print(json.dumps(count_queries(args.count_queries)))
        return

    if shutil.which("wrk") is None:
        sys.exit("wrk is needed: apt-get install -y wrk")
    endpoints = ENDPOINTS
    harness.install_cleanup()
    print(harness.machine_facts())
    started = time.perf_counter()
    env = harness.django_env(database=DATABASE, settings="config.settings", cache_prefix="bench")
    env["PLATFORM_DOMAIN"] = PLATFORM_DOMAIN

    harness.recreate_database(DATABASE)
    harness.flush_redis()
    try:
        print(f"... migrate_platform and {args.practices} practices", flush=True)
        harness.run(
            [harness.PYTHON, "manage.py", "migrate_platform", "--verbosity", "0"],
            env=env,
            timeout=180,
        )
        harness.run([harness.PYTHON, __file__, "--seed", str(args.practices)], env=env, timeout=180)

        with tempfile.TemporaryDirectory(prefix="swasth-bench-http-") as logs:
            servers = start_servers(endpoints, args, env, Path(logs))
            cookie, runs = measure(endpoints, args, servers)
            sizes = {e.key: check(servers[e.server.name].port, e, cookie) for e in endpoints}
            harness.stop_all()

        output = harness.run(
            [harness.PYTHON, __file__, "--count-queries", cookie], env=env, timeout=120
        )
        queries = json.loads(output.strip().splitlines()[-1])
        report(endpoints, runs, sizes, queries, args)
    finally:
        harness.stop_all()
        harness.flush_redis()
        if not args.keep_database:
            harness.drop_database(DATABASE)
    print(f"\n(whole run {time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
