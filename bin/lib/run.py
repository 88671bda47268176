"""What bin/demo and bin/test do once .venv is ready: `run.py demo` or `run.py test [ARGS]`.

Both find or start PostgreSQL and Redis first (bin/lib/stack.py) and stop the embedded ones
they started on the way out.
"""

import http.client
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

import environ
from embedded import port_is_free
from stack import ServiceError, say, services
from supervisor import Process, Supervisor, python_argv

ROOT = Path(__file__).resolve().parents[2]


def _base_env(extra: dict[str, str]) -> dict[str, str]:
    env = {**os.environ, **extra, "PYTHONUNBUFFERED": "1"}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    return env


def _exit_on_sigterm(signum: int, frame: FrameType | None) -> None:
    # Raising unwinds the `with services(...)` blocks, so embedded servers are stopped.
    raise SystemExit(128 + signum)


def main(argv: list[str]) -> int:
    os.chdir(ROOT)
    # Settings read .env too; reading it here lets its DATABASE_URL or REDIS_URL choose the
    # services. Variables already in the environment win, as they do in settings.
    if (ROOT / ".env").exists():
        environ.Env.read_env(ROOT / ".env")
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    signal.signal(signal.SIGHUP, _exit_on_sigterm)
    command, args = (argv[0], argv[1:]) if argv else ("", [])
    try:
        if command == "demo":
            return demo()
        if command == "test":
            return test(args)
    except ServiceError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except subprocess.CalledProcessError as error:
        step = " ".join(Path(part).name for part in error.cmd[1:3])
        print(f"error: {step} failed with status {error.returncode}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    print("usage: run.py demo | run.py test [pytest arguments]", file=sys.stderr)
    return 2


# bin/demo


def demo() -> int:
    port_text = os.environ.get("PORT") or "8000"
    if not port_text.isdigit():
        raise ServiceError(f"PORT={port_text!r} is not a port number")
    port = int(port_text)
    if not port_is_free(port):
        raise ServiceError(f"Port {port} is in use. Stop what listens there, or set PORT.")

    with services(ROOT, for_tests=False) as service_env:
        env = _base_env(service_env)
        # Links in emails and in the printed summary carry the port the server is on.
        env.setdefault("PORTAL_URL_PORT", str(port))

        say("Migrating the public schema, the practice template and every practice")
        _manage(env, "migrate_platform", "--verbosity", "0")
        say("Collecting static files")
        _manage(env, "collectstatic", "--noinput", "--verbosity", "0")
        say("Seeding the demo practices")
        summary = _manage(env, "seed_demo", capture=True)

        celery = python_argv("-m", "celery", "--app", "config")
        schedule = ROOT / ".data" / "celerybeat-schedule"
        schedule.parent.mkdir(parents=True, exist_ok=True)
        supervisor = Supervisor(
            [
                Process("web", python_argv("manage.py", "runserver", f"127.0.0.1:{port}")),
                Process(
                    "worker",
                    [*celery, "worker", "-l", "INFO", "--concurrency", "2", "-n", "demo@%h"],
                ),
                Process("beat", [*celery, "beat", "-l", "INFO", "--schedule", str(schedule)]),
            ],
            cwd=ROOT,
            env=env,
        )
        say("Starting the web server, a Celery worker and Celery beat")

        def announce(status: int) -> None:
            supervisor.echo(
                f"\n==> Swasth is running on port {port} (the sunrise portal answers {status})."
                f"\n    Press Ctrl-C to stop the web server, the worker and beat together."
                f"\n{summary.rstrip()}\n"
            )

        return supervisor.run(ready=lambda: _portal_status(port), on_ready=announce)


def _manage(env: dict[str, str], *args: str, capture: bool = False) -> str:
    """Run a manage.py command; its output is returned when captured, else shown."""
    stdout = subprocess.PIPE if capture else None
    result = subprocess.run(
        python_argv("manage.py", *args), env=env, check=True, stdout=stdout, text=True
    )
    return result.stdout or ""


def _portal_status(port: int) -> int | None:
    """The status sunrise's portal answers with, or None while nothing answers."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        connection.request("GET", "/", headers={"Host": f"sunrise.localhost:{port}"})
        return connection.getresponse().status
    except OSError:
        return None
    finally:
        connection.close()


# bin/test


@dataclass
class Check:
    name: str
    argv: list[str]
    needs_services: bool = False
    passed: bool = False
    seconds: float = 0.0
    note: str = ""


def test(pytest_args: list[str]) -> int:
    checks = [
        Check("ruff format --check .", python_argv("-m", "ruff", "format", "--check", ".")),
        Check("ruff check .", python_argv("-m", "ruff", "check", ".")),
        Check("mypy .", python_argv("-m", "mypy", ".")),
        Check(
            " ".join(["pytest", *pytest_args]),
            python_argv("-m", "pytest", *pytest_args),
            needs_services=True,
        ),
    ]
    for check in checks:
        say(check.name)
        started = time.monotonic()
        if check.needs_services:
            _run_with_services(check)
        else:
            check.passed = subprocess.run(check.argv, env=_base_env({})).returncode == 0
        check.seconds = time.monotonic() - started

    _print_summary(checks)
    return 0 if all(check.passed for check in checks) else 1


def _run_with_services(check: Check) -> None:
    try:
        with services(ROOT, for_tests=True) as service_env:
            result = subprocess.run(check.argv, env=_base_env(service_env))
            check.passed = result.returncode == 0
    except ServiceError as error:
        print(f"error: {error}", file=sys.stderr)
        check.note = "services unavailable"


def _print_summary(checks: list[Check]) -> None:
    width = max(len(check.name) for check in checks)
    print("\nSummary")
    for check in checks:
        outcome = "passed" if check.passed else "FAILED"
        note = f"  ({check.note})" if check.note else ""
        print(f"  {check.name.ljust(width)}  {outcome}  {check.seconds:6.1f}s{note}")
    failed = [check.name for check in checks if not check.passed]
    if failed:
        print(f"{len(failed)} of {len(checks)} failed: {', '.join(failed)}")
    else:
        print(f"All {len(checks)} passed.")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
