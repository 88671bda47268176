# ruff: noqa: E402
"""Provisioning time as tenant migrations grow and practices accumulate.

For each count of extra migrations (10 and 100 by default) this generates a throwaway tenant
app with that many real migrations (bench/extra_app.py) and a fresh database, and runs
`migrate_platform` there (public schema, template schema, captured template script). It then
times `tenants.services.provision_practice` itself: first in the empty databases, then again
after provisioning enough practices to have 300 present. The databases take turns, a few
samples at a time, so that a change in the machine's background load falls on both alike.
Last, it times django-tenants' own ways to create a schema in the same databases: cloning the
template with its `clone_schema` function and faking the migrations, or creating an empty
schema and running every migration.

    .venv/bin/python bench/provisioning.py [--migrations 10,100] [--present 300] [--samples 20]

Each configuration runs in Django processes of its own (the installed apps differ); this
process only orchestrates and prints. See docs/bench.md.
"""

import sys
from pathlib import Path

# As a script, this file's folder would head sys.path, and bench/http.py would then shadow the
# standard library's http package. The repository root takes its place.
sys.path[0] = str(Path(__file__).resolve().parent.parent)

import argparse
import json
import secrets
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from typing import Any

from bench import harness
from bench.extra_app import write_extra_app

TARGET_P50_MS = 250.0
TARGET_P95_MS = 1000.0
DB_PREFIX = "swasth_bench_prov"
# The optional comparison with django-tenants is skipped when the run is this far along, so
# that a slow machine still finishes within 10 minutes.
STOCK_DEADLINE_S = 360


# Children: Django processes of one configuration -------------------------------------------------


def _ms(since: float) -> float:
    return (time.perf_counter() - since) * 1000


def _setup() -> None:
    import django

    django.setup()


def _provision() -> None:
    from tenants.services import provision_practice

    slug = f"bench-{secrets.token_hex(4)}"
    provision_practice(
        actor=None,
        name=f"Bench Practice {slug}",
        slug=slug,
        owner_email=f"owner@{slug}.test",
        plan_code="starter",
        time_zone="America/New_York",
    )


def child_seed(present: int) -> dict[str, Any]:
    """Provision practices until `present` exist."""
    _setup()
    from tenants.models import Practice

    for _ in range(max(0, present - Practice.objects.count())):
        _provision()
    return {"present": Practice.objects.count()}


def child_sample(samples: int) -> dict[str, Any]:
    """Time `samples` provisionings that replay the template script (no spare schema)."""
    return _sample(samples, spares=False)


def child_sample_spares(samples: int) -> dict[str, Any]:
    """Time `samples` provisionings that each claim a spare schema. The spare is built before
    each one, untimed, as the Celery refill does in the background after a provisioning."""
    return _sample(samples, spares=True)


def _sample(samples: int, *, spares: bool) -> dict[str, Any]:
    """Time provisionings, after one untimed one that warms the process up."""
    _setup()
    from django.conf import settings
    from django.db import connection

    import tenants.template
    from tenants.models import Practice
    from tenants.spares import refill_spare_schemas

    # The spare path also queues the refill task after each provisioning, as in production
    # (to the broker nobody reads); the refill itself runs here, between timed calls.
    settings.PRACTICE_SPARE_SCHEMAS = 1 if spares else 0

    # The schema's creation inside the call, timed on its own: the replay of the template
    # script, or the claim of a spare. Provisioning calls it through the module attribute, so
    # wrapping the attribute sees every call.
    replay_ms: list[float] = []
    replay = tenants.template.create_schema_from_template

    def timed_replay(schema_name: str) -> None:
        start = time.perf_counter()
        replay(schema_name)
        replay_ms.append(_ms(start))

    tenants.template.create_schema_from_template = timed_replay  # type: ignore[assignment]

    if spares:
        refill_spare_schemas()
    _provision()
    present = Practice.objects.count()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        backend = cursor.fetchone()[0]
    replay_ms.clear()

    times: list[float] = []
    app_s = db_s = foreign = 0.0
    for _ in range(samples):
        if spares:
            refill_spare_schemas()
        with harness.CpuWatch({"db": lambda: [backend]}) as cpu:
            start = time.perf_counter()
            _provision()
            times.append(_ms(start))
        app_s += cpu.own_seconds
        db_s += cpu.seconds["db"]
        foreign += cpu.foreign_pct
    return {
        "present": present,
        "times": times,
        "replay": replay_ms,
        "app_cpu_ms": app_s * 1000 / samples,
        "db_cpu_ms": db_s * 1000 / samples,
        "foreign_pct": foreign / samples,
    }


def child_stock(samples: int) -> dict[str, Any]:
    """django-tenants' own schema creation, timed on throwaway schemas that are then dropped."""
    _setup()
    from django.conf import settings
    from django.core.management import call_command
    from django_tenants.clone import CloneSchema
    from django_tenants.models import TenantMixin

    from tenants.models import Practice, new_schema_name
    from tenants.schemas import connection

    def clone(name: str) -> None:
        # TenantMixin.create_schema with TENANT_CREATION_FAKES_MIGRATIONS: clone, then fake.
        CloneSchema().clone_schema(settings.TENANT_BASE_SCHEMA, name, "DATA")
        call_command(
            "migrate_schemas",
            tenant=True,
            fake=True,
            schema_name=name,
            interactive=False,
            verbosity=0,
        )

    def migrate(name: str) -> None:
        # TenantMixin.create_schema without a base schema: CREATE SCHEMA, then migrate.
        TenantMixin.create_schema(Practice(schema_name=name), verbosity=0)

    timings: dict[str, list[float]] = {"clone": [], "migrate": []}
    paths: dict[str, Callable[[str], None]] = {"clone": clone, "migrate": migrate}
    for label, create in paths.items():
        for _ in range(samples):
            name = new_schema_name()
            start = time.perf_counter()
            create(name)
            timings[label].append(_ms(start))
            connection.set_schema_to_public()
            with connection.cursor() as cursor:
                cursor.execute(f'DROP SCHEMA "{name}" CASCADE')
    return timings


def child_facts() -> dict[str, Any]:
    """The size of the template that provisioning replays."""
    _setup()
    from django.conf import settings
    from django.db import connection

    from tenants.models import SchemaTemplate

    base = settings.TENANT_BASE_SCHEMA
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relkind, count(*) FROM pg_class c JOIN pg_namespace n"
            " ON n.oid = c.relnamespace WHERE n.nspname = %s GROUP BY c.relkind",
            [base],
        )
        kinds = dict(cursor.fetchall())
        cursor.execute(f'SELECT count(*) FROM "{base}".django_migrations')
        migrations = cursor.fetchone()[0]
    script = SchemaTemplate.objects.order_by("-id").values_list("script", flat=True).first()
    return {
        "tables": kinds.get("r", 0),
        "indexes": kinds.get("i", 0),
        "migrations": migrations,
        "script_kb": len(script or "") / 1024,
    }


def child_profile(count: int) -> str:
    """cProfile of `count` provisionings (after one untimed), top functions by cumulative."""
    import cProfile
    import io
    import pstats

    _setup()
    _provision()
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(count):
        _provision()
    profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(25)
    return out.getvalue()


CHILDREN: dict[str, Callable[[int], Any]] = {
    "seed": child_seed,
    "sample": child_sample,
    "sample_spares": child_sample_spares,
    "stock": child_stock,
    "facts": lambda _: child_facts(),
    "profile": child_profile,
}


# The orchestrating parent ------------------------------------------------------------------------


@dataclass
class Configuration:
    extra: int
    env: dict[str, str]
    database: str
    migrate_s: float = 0.0
    facts: dict[str, Any] = field(default_factory=dict)
    # Per phase ("first", "present"): the merged results of the sampling children.
    phases: dict[str, dict[str, list[float]]] = field(default_factory=dict)
    stock: dict[str, list[float]] = field(default_factory=dict)
    profile: str = ""

    def child(self, mode: str, number: int, *, timeout: float = 420) -> Any:
        output = harness.run(
            [harness.PYTHON, __file__, "--child", mode, str(number)], env=self.env, timeout=timeout
        )
        return json.loads(output.strip().splitlines()[-1])

    def record(self, phase: str, result: dict[str, Any]) -> None:
        merged = self.phases.setdefault(phase, {})
        for key in ("times", "replay"):
            merged.setdefault(key, []).extend(result[key])
        for key in ("app_cpu_ms", "db_cpu_ms", "foreign_pct"):
            merged.setdefault(key, []).append(result[key])
        # Practices present before each measured call.
        first = result["present"]
        merged.setdefault("present", []).extend([first, first + len(result["times"]) - 1])


@contextmanager
def configuration(extra: int, keep: bool) -> Iterator[Configuration]:
    """A generated app with `extra` migrations and a migrated database of its own."""
    database = f"{DB_PREFIX}_{extra}"
    with tempfile.TemporaryDirectory(prefix="swasth-bench-app-") as app_dir:
        write_extra_app(Path(app_dir), extra)
        env = harness.django_env(
            database=database, settings="bench.settings_provisioning", cache_prefix="bench-prov"
        )
        env["BENCH_EXTRA_APP_DIR"] = app_dir
        harness.recreate_database(database)
        try:
            config = Configuration(extra, env, database)
            start = time.perf_counter()
            harness.run(
                [harness.PYTHON, "manage.py", "migrate_platform", "--verbosity", "0"],
                env=env,
                timeout=180,
            )
            config.migrate_s = time.perf_counter() - start
            config.facts = config.child("facts", 0)
            yield config
        finally:
            if not keep:
                harness.drop_database(database)


# How a provisioning gets its schema: the child that measures it, and its label in the tables.
PATHS = {"replay": "sample", "spare": "sample_spares"}


def sample_in_turns(configs: list[Configuration], phase: str, args: argparse.Namespace) -> None:
    per_turn = max(1, args.samples // args.turns)
    for turn in range(args.turns):
        order = configs if turn % 2 == 0 else configs[::-1]
        paths = list(PATHS) if turn % 2 == 0 else list(PATHS)[::-1]
        for config in order:
            count = per_turn if turn < args.turns - 1 else args.samples - per_turn * turn
            for path in paths:
                result = config.child(PATHS[path], count)
                config.record(f"{phase} {path}", result)
                print(
                    f"    {config.extra} extra migrations, {result['present']} present, {path}:"
                    f" p50 {statistics.median(result['times']):.0f} ms"
                    f" (others {result['foreign_pct']:.0f}%)",
                    flush=True,
                )


def _f(value: float) -> str:
    return f"{value:.0f}"


def report(configs: list[Configuration], args: argparse.Namespace) -> None:
    rows = []
    for config in configs:
        facts = config.facts
        for phase in [f"{when} {path}" for when in ("first", "present") for path in PATHS]:
            data = config.phases[phase]
            times = data["times"]
            label = f"{min(data['present']):.0f}-{max(data['present']):.0f}"
            rows.append(
                [
                    config.extra,
                    phase.split()[1],
                    facts["migrations"],
                    f"{facts['tables']} / {facts['indexes']}",
                    f"{facts['script_kb']:.0f}",
                    label,
                    len(times),
                    _f(harness.percentile(times, 50)),
                    _f(harness.percentile(times, 95)),
                    _f(max(times)),
                    _f(harness.percentile(data["replay"], 50)),
                    _f(statistics.mean(data["app_cpu_ms"])),
                    _f(statistics.mean(data["db_cpu_ms"])),
                    f"{statistics.mean(data['foreign_pct']):.0f}%",
                ]
            )
    print(
        "\nProvisioning one practice: tenants.services.provision_practice, ms of wall time"
        " unless noted"
    )
    print(
        harness.table(
            [
                "extra migrations", "schema", "tenant migrations", "template tables / indexes",
                "script kB", "present", "n", "p50", "p95", "max", "schema p50",
                "CPU app", "CPU db", "others",
            ],
            rows,
        )
    )  # fmt: skip
    print(
        "schema: how the call got its schema. replay: it ran the captured template script"
        " itself; spare: it renamed a\nspare schema (tenants/spares.py) that was built before"
        " the call, untimed, as the Celery refill does in\nproduction after each provisioning."
        " present: practices already provisioned before each measured call.\nschema p50: the"
        " schema's creation inside the call; the rest is the practice and domain rows, slug"
        " checks,\naudit events, the owner, the commit. CPU app / db: CPU ms per provisioning in"
        " this process / its\nPostgreSQL backend. others: share of all cores used by other"
        " processes meanwhile. The owner's invitation\n(and, on the spare path, the refill) is"
        " queued to a Redis broker no worker reads; owners get unusable\npasswords, so nothing"
        " is hashed. Percentiles interpolate between closest ranks."
    )

    if args.stock_samples:
        stock_rows = []
        for config in configs:
            clone, migrate = config.stock["clone"], config.stock["migrate"]
            stock_rows.append(
                [
                    config.extra,
                    len(clone),
                    _f(statistics.median(clone)),
                    _f(max(clone)),
                    _f(statistics.median(migrate)),
                    _f(max(migrate)),
                ]
            )
        print(
            "\ndjango-tenants' own schema creation in the same databases"
            f" ({args.present} practices present), ms of wall time"
        )
        print(
            harness.table(
                [
                    "extra migrations", "n", "clone_schema + migrate --fake p50", "max",
                    "CREATE SCHEMA + migrate p50", "max",
                ],
                stock_rows,
            )
        )  # fmt: skip

    print()
    for config in configs:
        print(f"migrate_platform with {config.extra} extra migrations: {config.migrate_s:.1f} s")

    largest = max(configs, key=lambda config: config.extra)
    for path, how in (
        ("spare", "claiming a spare schema (refilled in the background by Celery)"),
        ("replay", "replaying the template script (no spare left)"),
    ):
        times = largest.phases[f"present {path}"]["times"]
        p50, p95 = harness.percentile(times, 50), harness.percentile(times, 95)
        verdict = "met" if p50 <= TARGET_P50_MS and p95 <= TARGET_P95_MS else "NOT met"
        print(
            f"\ntarget p50 <= {TARGET_P50_MS:.0f} ms and p95 <= {TARGET_P95_MS:.0f} ms with"
            f" {largest.extra} extra migrations and {args.present} practices present,"
            f" {how}: {verdict} (p50 {p50:.0f} ms, p95 {p95:.0f} ms)"
        )
    for config in configs:
        if config.profile:
            print(f"\ncProfile, {args.profile} provisionings, {config.extra} extra migrations:")
            print(config.profile)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--migrations", default="10,100", help="extra migration counts")
    parser.add_argument("--present", type=int, default=300, help="practices before measuring")
    parser.add_argument("--samples", type=int, default=20, help="provisionings measured")
    parser.add_argument("--turns", type=int, default=2, help="turns the databases take")
    parser.add_argument(
        "--stock-samples", type=int, default=2, help="django-tenants schema creations (0: skip)"
    )
    parser.add_argument("--profile", type=int, default=0, help="cProfile this many more")
    parser.add_argument("--keep-databases", action="store_true")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.child:
        mode, number = args.child
        print(json.dumps(CHILDREN[mode](int(number))))
        return

    harness.install_cleanup()
    print(harness.machine_facts())
    started = time.perf_counter()
    extras = sorted({int(count) for count in args.migrations.split(",")})
    harness.flush_redis()
    with ExitStack() as stack:
        stack.callback(harness.flush_redis)
        print(f"... migrate_platform for {', '.join(map(str, extras))} extra migrations")
        configs = [stack.enter_context(configuration(n, args.keep_databases)) for n in extras]

        print(f"... {args.samples} provisionings each, in turns, in the empty databases")
        sample_in_turns(configs, "first", args)
        print(f"... provisioning up to {args.present} practices each", flush=True)
        for config in configs:
            config.child("seed", args.present)
        print(f"... {args.samples} provisionings each, in turns, {args.present} present")
        sample_in_turns(configs, "present", args)

        for config in configs:
            if args.stock_samples and time.perf_counter() - started > STOCK_DEADLINE_S:
                print("... no time left for django-tenants' schema creation; skipped")
                args.stock_samples = 0
            if args.stock_samples:
                print(f"... django-tenants schema creation, {config.extra} extra migrations")
                config.stock = config.child("stock", args.stock_samples)
            if args.profile:
                config.profile = config.child("profile", args.profile)
        report(configs, args)
    print(f"\n(whole run {time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
