"""Each process's own copy of host resolutions (tenants/host_memo.py), against real Redis."""

import os
import subprocess
import sys
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import redis
from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.utils.functional import empty

from tenants import host_memo
from tenants.hosts import CACHE_VERSION, HostKind, Resolution, resolve_host
from tenants.middleware import PracticeHostMiddleware
from tenants.models import Practice
from tenants.services import change_portal_slug
from tests.conftest import host_client
from tests.worker import _database_url

ROOT = Path(__file__).resolve().parents[2]


@contextmanager
def redis_commands() -> Iterator[list[tuple[Any, ...]]]:
    """Every command this process sends to Redis meanwhile (they still go to Redis)."""
    sent: list[tuple[Any, ...]] = []
    original = redis.Redis.execute_command

    def recording(self: redis.Redis, *args: Any, **options: Any) -> Any:
        sent.append(args)
        return original(self, *args, **options)

    redis.Redis.execute_command = recording  # type: ignore[method-assign]
    try:
        yield sent
    finally:
        redis.Redis.execute_command = original  # type: ignore[method-assign]


def remember(host: str) -> None:
    """Resolve until this process holds the answer: the first lookup caches it in Redis, and
    the barrier makes sure the message about that write has arrived before the second."""
    resolve_host(host)
    host_memo.barrier()
    resolve_host(host)


def memo() -> host_memo.HostMemo:
    found = host_memo.host_memo(cache.make_key("host:", version=CACHE_VERSION))
    assert found is not None
    return found


def test_it_answers_a_known_host_without_a_query_or_a_redis_command(sunrise):
    remember("sunrise.localhost")

    with CaptureQueriesContext(connection) as queries, redis_commands() as commands:
        resolution = resolve_host("sunrise.localhost")

    assert len(queries) == 0
    assert commands == []
    assert resolution.kind is HostKind.PRACTICE
    assert resolution.practice.schema_name == sunrise.schema_name


def test_it_gives_every_lookup_its_own_practice_object(sunrise):
    remember("sunrise.localhost")

    first = resolve_host("sunrise.localhost").practice
    first.name = "Changed in one request only"

    assert resolve_host("sunrise.localhost").practice.name == "Sunrise Therapy"


def test_its_copies_share_nothing_that_a_request_could_change(sunrise):
    remember("sunrise.localhost")

    first = resolve_host("sunrise.localhost").practice
    first.plan.features.append("changed-in-one-request")
    first.plan.name = "Changed"
    first._state.fields_cache.clear()
    second = resolve_host("sunrise.localhost").practice

    assert second is not first and second.plan is not first.plan
    assert "changed-in-one-request" not in second.plan.features
    assert second.plan.name == sunrise.plan.name
    assert second._state.adding is False and second._state.db == "default"


def test_a_request_copies_its_practice_when_it_first_reads_it(sunrise):
    remember("sunrise.localhost")
    seen: dict[str, object] = {}

    def view(request: HttpRequest) -> HttpResponse:
        seen["copied before use"] = request.tenant._wrapped is not empty  # type: ignore[attr-defined]
        seen["the connection's"] = request.tenant is connection.tenant  # type: ignore[attr-defined]
        seen["schema"] = connection.schema_name
        request.tenant.name = "Changed in one request only"  # type: ignore[attr-defined]
        return HttpResponse(b"ok")

    PracticeHostMiddleware(view)(RequestFactory().get("/", HTTP_HOST="sunrise.localhost"))

    assert seen == {
        "copied before use": False,
        "the connection's": True,
        "schema": sunrise.schema_name,
    }
    assert resolve_host("sunrise.localhost").practice.name == "Sunrise Therapy"


def test_a_copy_maker_keeps_the_value_as_it_was_when_made(sunrise):
    practice = Practice.objects.select_related("plan").get(pk=sunrise.pk)
    features = list(practice.plan.features)
    make = host_memo.copy_maker(Resolution(HostKind.PRACTICE, practice=practice))

    practice.name = "Renamed afterwards"
    practice.plan.features.append("added-afterwards")

    copy = make().practice
    assert copy.name == "Sunrise Therapy"
    assert copy.plan.features == features
    assert copy.pk == sunrise.pk and copy.plan_id == practice.plan_id


def test_a_forked_child_starts_over_without_its_parents_copy(sunrise):
    remember("sunrise.localhost")
    parent_connection = memo()._connection
    assert memo()._entries

    read, write = os.pipe()
    with warnings.catch_warnings():
        # pytest's process has threads; the child takes no lock, reads two attributes and exits.
        warnings.simplefilter("ignore", DeprecationWarning)
        child = os.fork()
    if child == 0:  # pragma: no cover - the child reports through the pipe
        state = host_memo._memo
        fresh = state is not None and state._connection is None and not state._entries
        os.write(write, b"fresh" if fresh else b"inherited")
        os._exit(0)
    os.close(write)
    report = os.read(read, 100)
    os.close(read)
    os.waitpid(child, 0)

    assert report == b"fresh"
    # The parent's own copy and connection are untouched.
    assert memo()._connection is parent_connection
    assert memo()._entries


def test_it_stops_resolving_a_renamed_slug_at_once_in_this_process(sunrise, alice):
    remember("sunrise.localhost")

    change_portal_slug(sunrise, actor=alice, slug="sunrise-care")

    assert resolve_host("sunrise.localhost").kind is HostKind.UNKNOWN
    assert resolve_host("sunrise-care.localhost").practice.pk == sunrise.pk


def test_it_keeps_unknown_hosts_out_of_the_watched_keys(db):
    response = host_client("nobody-here.localhost").get("/")

    assert response.status_code == 404
    assert cache.get("unknown-host:nobody-here.localhost", version=CACHE_VERSION) is not None
    assert cache.get("host:nobody-here.localhost", version=CACHE_VERSION) is None
    assert resolve_host("nobody-here.localhost").kind is HostKind.UNKNOWN


def test_it_reads_redis_again_once_its_connection_is_lost(sunrise):
    remember("sunrise.localhost")
    tracking = memo()._connection
    tracking.send_command("CLIENT", "ID")
    tracking_id = tracking.read_response()

    # The connection drops, and a change is made that it can no longer announce.
    cache._cache.get_client(write=True).client_kill_filter(_id=tracking_id)
    cache.set("host:sunrise.localhost", Resolution(HostKind.UNKNOWN), version=CACHE_VERSION)

    assert resolve_host("sunrise.localhost").kind is HostKind.UNKNOWN


def test_it_resolves_from_redis_when_switched_off(sunrise, alice, settings):
    settings.HOST_MEMO = False
    resolve_host("sunrise.localhost")

    with redis_commands() as commands:
        assert resolve_host("sunrise.localhost").kind is HostKind.PRACTICE
    change_portal_slug(sunrise, actor=alice, slug="sunrise-care")

    assert commands, "without the memo every lookup reads Redis"
    assert resolve_host("sunrise.localhost").kind is HostKind.UNKNOWN


@pytest.fixture
def other_process() -> Iterator[subprocess.Popen[str]]:
    """tests/tenants/resolver_process.py on the pytest database and Redis."""
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": _database_url(),
        "PYTHONPATH": str(ROOT),
    }
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "tests" / "tenants" / "resolver_process.py")],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=environment,
        cwd=ROOT,
    )
    try:
        assert process.stdout is not None
        assert process.stdout.readline().strip() == "ready"
        yield process
    finally:
        process.kill()
        process.wait()


def ask(process: subprocess.Popen[str], host: str) -> str:
    assert process.stdin is not None and process.stdout is not None
    process.stdin.write(host + "\n")
    process.stdin.flush()
    return process.stdout.readline().strip()


def test_another_process_stops_resolving_a_renamed_slug_at_once(
    committed_practice: Practice, other_process: subprocess.Popen[str], django_db_blocker: Any
):
    old, new = "committed-care.localhost", "committed-care-moved.localhost"
    answers = [ask(other_process, old) for _ in range(3)]
    assert answers[0].startswith("practice ")
    assert answers[-1] == "practice memo", answers

    with django_db_blocker.unblock():
        change_portal_slug(committed_practice, actor=None, slug="committed-care-moved")

    # No waiting and no retries: the very next lookup in the other process is right.
    assert ask(other_process, old) == "unknown shared"
    assert ask(other_process, new).startswith("practice ")
