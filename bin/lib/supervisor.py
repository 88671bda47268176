"""Run several long-lived processes together, their output interleaved and labelled.

Each process gets a session (and so a process group) of its own, so the terminal's Ctrl-C
reaches only this supervisor, which then stops every group the same way: SIGTERM, then
SIGKILL for whatever is still running after a grace period. Stopping a whole group matters
for `runserver`, whose autoreloader serves from a child process that would otherwise keep
the port. When any process exits by itself, the others are stopped too.
"""

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType

GRACE_SECONDS = 10.0


@dataclass
class Process:
    name: str
    argv: list[str]
    popen: subprocess.Popen[str] | None = None
    reader: threading.Thread | None = field(default=None, repr=False)


class Supervisor:
    def __init__(self, processes: list[Process], *, cwd: Path, env: dict[str, str]) -> None:
        self.processes = processes
        self.cwd = cwd
        self.env = env
        self._stop_requested = threading.Event()
        self._print_lock = threading.Lock()
        self._width = max(len(process.name) for process in processes)

    def echo(self, line: str) -> None:
        with self._print_lock:
            print(line, flush=True)

    def run[T](self, *, ready: Callable[[], T | None], on_ready: Callable[[T], None]) -> int:
        """Start everything, call `on_ready` with what `ready()` returns once that is not
        None, and wait for a stop.

        Returns 0 after a stop by signal, 1 if a process exited by itself.
        """
        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(signum, self._request_stop)

        exited: Process | None = None
        announced = False
        try:
            for process in self.processes:
                self._start(process)
            while not self._stop_requested.wait(0.25):
                exited = next((p for p in self.processes if self._has_exited(p)), None)
                if exited is not None:
                    break
                if not announced and (readiness := ready()) is not None:
                    announced = True
                    on_ready(readiness)
        finally:
            self._stop_all()

        if exited is not None:
            assert exited.popen is not None
            self.echo(f"{exited.name} exited with status {exited.popen.returncode}; stopped")
            return 1
        return 0

    def _request_stop(self, signum: int, frame: FrameType | None) -> None:
        self._stop_requested.set()

    @staticmethod
    def _has_exited(process: Process) -> bool:
        return process.popen is not None and process.popen.poll() is not None

    def _start(self, process: Process) -> None:
        process.popen = subprocess.Popen(
            process.argv,
            cwd=self.cwd,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            errors="replace",
            bufsize=1,
            start_new_session=True,
        )
        process.reader = threading.Thread(target=self._relay, args=(process,), daemon=True)
        process.reader.start()

    def _relay(self, process: Process) -> None:
        assert process.popen is not None and process.popen.stdout is not None
        label = process.name.ljust(self._width)
        for line in process.popen.stdout:
            self.echo(f"{label} | {line.rstrip()}")

    def _stop_all(self) -> None:
        running = [p for p in self.processes if p.popen is not None and p.popen.poll() is None]
        if running:
            self.echo(f"Stopping {', '.join(p.name for p in running)}")
        for process in running:
            self._signal_group(process, signal.SIGTERM)

        deadline = time.monotonic() + GRACE_SECONDS
        for process in running:
            assert process.popen is not None
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.popen.wait(timeout=max(0.0, deadline - time.monotonic()))
        # The group may hold children (the autoreloader's server, Celery's pool) that
        # outlive their leader; a last SIGKILL to every group leaves nothing behind.
        for process in self.processes:
            if process.popen is not None:
                self._signal_group(process, signal.SIGKILL)
                process.popen.wait()
            if process.reader is not None:
                process.reader.join(timeout=2)

    @staticmethod
    def _signal_group(process: Process, signum: int) -> None:
        assert process.popen is not None
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.popen.pid, signum)


def python_argv(*args: str) -> list[str]:
    return [sys.executable, *args]
