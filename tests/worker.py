"""A real Celery worker in a subprocess, for tests that prove what happens across processes.

The worker reads the pytest database and takes tasks from a queue of its own on the test
broker (see config/settings/test.py; never Redis database 0), so no other worker on this
machine can take them and it takes nobody else's. Every email it sends is written to a file in
a directory the test chooses.
"""

import contextlib
import email
import email.policy
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from urllib.parse import quote

import redis
from django.conf import settings
from kombu import Connection

from config.celery import app

# Bounds, not delays: every wait below polls and returns as soon as its condition holds.
STARTUP_TIMEOUT = 30.0
TASK_TIMEOUT = 30.0
SHUTDOWN_TIMEOUT = 10.0
POLL_INTERVAL = 0.05

# What the file-based email backend writes after each message.
_MESSAGE_SEPARATOR = b"\n" + b"-" * 79 + b"\n"


def wait_until[T](condition: Callable[[], T], *, what: str, timeout: float = TASK_TIMEOUT) -> T:
    """Poll `condition` until it returns something truthy, and return that; fail after
    `timeout` seconds naming `what` was awaited."""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            raise TimeoutError(f"gave up after {timeout:.0f} s waiting for {what}")
        time.sleep(POLL_INTERVAL)


def _database_url() -> str:
    """The database this process uses now (the pytest one), as a DATABASE_URL."""
    db = settings.DATABASES["default"]
    user = quote(str(db.get("USER") or ""), safe="")
    password = quote(str(db.get("PASSWORD") or ""), safe="")
    credentials = f"{user}:{password}@" if password else f"{user}@" if user else ""
    host = db.get("HOST") or "127.0.0.1"
    port = db.get("PORT") or 5432
    return f"postgres://{credentials}{host}:{port}/{quote(str(db['NAME']), safe='')}"


@dataclass
class Worker:
    process: "subprocess.Popen[bytes]"
    queue: str
    outbox: Path
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def emails(self) -> list[EmailMessage]:
        """Every email the worker has written, oldest first (once each is written out)."""
        paths = sorted(self.outbox.iterdir())
        wait_until(
            lambda: all(_written(path) for path in paths), what="the worker to finish its files"
        )
        return [_read_email(path) for path in paths]

    def wait_for_emails(self, count: int) -> list[EmailMessage]:
        """Wait until the worker has written at least `count` emails; return all it wrote."""
        wait_until(
            lambda: self._alive() and sum(map(_written, self.outbox.iterdir())) >= count,
            what=f"{count} email(s) from the worker",
        )
        return self.emails()

    def wait_for_task(self, task_id: str, *, times: int = 1) -> None:
        """Wait until the worker has finished the task with this id `times` times."""
        finished = f"[{task_id}] succeeded"

        def done() -> bool:
            self._alive()
            log = self.log()
            if f"[{task_id}] raised unexpected" in log:
                raise AssertionError(f"task {task_id} failed in the worker:\n{log}")
            return log.count(finished) >= times

        wait_until(done, what=f"task {task_id} to finish {times} time(s)")

    def _alive(self) -> bool:
        if self.process.poll() is not None:
            raise RuntimeError(f"the worker exited with {self.process.returncode}:\n{self.log()}")
        return True

    def stop(self) -> None:
        """Warm shutdown (SIGTERM), then SIGKILL if it hangs; then forget its queue."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=SHUTDOWN_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=SHUTDOWN_TIMEOUT)
        _forget_queue(self.queue)

    def kill(self) -> None:
        """SIGKILL the worker and its pool processes, as a lost host or the OOM killer would:
        no warm shutdown, nothing acknowledged or handed back. Its queue stays on the broker,
        so that a new worker started with `queue=` can take over."""
        pool = _descendants(self.process.pid)
        # The main process first: a prefork parent that saw a child die would hand its task
        # back at once (reject_on_worker_lost), which is a gentler death than this one.
        for pid in [self.process.pid, *pool]:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        self.process.wait(timeout=SHUTDOWN_TIMEOUT)


def _descendants(pid: int) -> list[int]:
    children: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        with contextlib.suppress(FileNotFoundError):
            children.extend(int(child) for child in (task / "children").read_text().split())
    return [descendant for child in children for descendant in (child, *_descendants(child))]


def restore_unacknowledged() -> int:
    """Put the messages that dead workers took and never acknowledged back on their queues;
    return how many there were.

    The Redis transport does this by itself once such a message is older than the visibility
    timeout (an hour: config/settings/services.py). A test cannot wait that long, so this runs
    the transport's own restore with a timeout of zero. Call it while no worker is running on
    the test broker, or the message a live worker is busy with would be handed out again.
    """
    options = {**app.conf.broker_transport_options, "visibility_timeout": 0}
    with Connection(app.conf.broker_url, transport_options=options) as broker:
        channel: Any = broker.default_channel
        before = channel.client.hlen(channel.unacked_key)
        channel.qos.restore_visible(num=None, interval=1)
        return int(before - channel.client.hlen(channel.unacked_key))


def _written(path: Path) -> bool:
    """Whether the file backend has finished `path`: it ends each message with a separator."""
    return path.read_bytes().endswith(_MESSAGE_SEPARATOR)


def _read_email(path: Path) -> EmailMessage:
    raw = path.read_bytes()
    assert raw.count(_MESSAGE_SEPARATOR) == 1, f"{path.name} holds more than one message"
    message = email.message_from_bytes(
        raw.removesuffix(_MESSAGE_SEPARATOR), policy=email.policy.default
    )
    assert isinstance(message, EmailMessage)
    return message


def _forget_queue(queue: str) -> None:
    """Remove the keys and binding entries that the worker's queue left on the broker."""
    broker = redis.Redis.from_url(app.conf.broker_url)
    name = queue.encode()
    try:
        for key in broker.scan_iter(match=f"*{queue}*"):
            broker.delete(key)
        # Messages a killed worker of this queue took and never acknowledged.
        for tag, payload in broker.hscan_iter("unacked"):
            if name in payload:
                broker.hdel("unacked", tag)
                broker.zrem("unacked_index", tag)
        for key in broker.scan_iter(match="_kombu.binding*"):
            kind = broker.type(key)
            if kind == b"set":
                members = [m for m in broker.smembers(key) if name in m]
                if members:
                    broker.srem(key, *members)
            elif kind == b"zset":
                members = [m for m in broker.zrange(key, 0, -1) if name in m]
                if members:
                    broker.zrem(key, *members)
    finally:
        broker.close()


def start_worker(
    directory: Path,
    *,
    queue: str | None = None,
    outbox: Path | None = None,
    environment: Mapping[str, str] | None = None,
) -> Worker:
    """Start `celery -A config worker` on a new queue and wait until it is ready.

    The worker uses this process's database (the pytest one) and broker, runs tasks for real
    (not eagerly) in one process, and writes emails to `directory/outbox`. A worker that takes
    over from a killed one is given that one's `queue` and `outbox`; `environment` adds to or
    overrides the worker's environment (tests/mail_backends.py reads some).
    """
    queue = queue or f"test-worker-{uuid.uuid4().hex[:12]}"
    if outbox is None:
        outbox = directory / "outbox"
        outbox.mkdir()
    log_path = directory / "worker.log"
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": _database_url(),
        # The broker this process publishes to, wherever Celery found it.
        "CELERY_BROKER_URL": app.conf.broker_url,
        "SWASTH_TEST_WORKER": "true",
        "CELERY_TASK_ALWAYS_EAGER": "false",
        # Tasks the worker itself enqueues (a batch queuing emails) come back to this worker.
        "CELERY_TASK_DEFAULT_QUEUE": queue,
        # One file per message: Django's file backend puts every message sent within the same
        # second by one connection into one file.
        "EMAIL_BACKEND": "tests.mail_backends.FilePerMessageBackend",
        "EMAIL_FILE_PATH": str(outbox),
        "LOG_LEVEL": "INFO",
        **(environment or {}),
    }
    command = [
        sys.executable,
        "-m",
        "celery",
        "--app",
        "config",
        "worker",
        "--pool",
        "solo",
        "--queues",
        queue,
        "--hostname",
        f"{queue}@%h",
        "--without-heartbeat",
        "--without-gossip",
        "--without-mingle",
        "--loglevel",
        "INFO",
    ]
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command, cwd=settings.BASE_DIR, env=environment, stdout=log, stderr=subprocess.STDOUT
        )
    worker = Worker(process=process, queue=queue, outbox=outbox, log_path=log_path)
    try:
        wait_until(
            lambda: worker._alive() and f"{queue}@" in worker.log() and " ready." in worker.log(),
            what="the worker to be ready",
            timeout=STARTUP_TIMEOUT,
        )
    except BaseException:
        worker.stop()
        raise
    return worker


@contextlib.contextmanager
def tasks_sent_to(worker: Worker | str) -> Iterator[None]:
    """Within the block, tasks this process enqueues go through the broker to `worker`'s
    queue instead of running in-process. Given a queue's name instead, they wait there for a
    worker that `start_worker(..., queue=)` starts later."""
    conf: Any = app.conf
    saved = conf.task_always_eager, conf.task_default_queue
    conf.task_always_eager = False
    conf.task_default_queue = worker if isinstance(worker, str) else worker.queue
    try:
        yield
    finally:
        conf.task_always_eager, conf.task_default_queue = saved
