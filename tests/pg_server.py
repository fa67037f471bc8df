"""A throw-away PostgreSQL server for one test process, so that the tests need no server installed
and running beforehand, only Debian's server binaries (`make postgres-server`).

The server runs from Debian's binaries (`/usr/lib/postgresql/<version>/bin`, the newest there), with
its data folder, socket and log in a fresh temporary folder, on a free port of 127.0.0.1 (never the
machine's 5432), trust authentication, superuser `postgres`, and without fsync (nothing in it has to
survive a crash). It is stopped and its folder removed when the `with` block ends.

It is started and stopped by pytest-postgresql's `PostgreSQLExecutor` (pg_ctl initdb, pg_ctl start
-w, waiting for the port; pg_ctl stop). Not by that package's `postgresql_proc` fixture factory: the
factory puts the data folder under pytest's temporary folder, which only the user running the tests
may enter (mode 0700), and under root the server has to run as another user, because initdb and
pg_ctl refuse to run as root. So under root every pg_ctl call goes through a two-line wrapper that
runs it as the `postgres` OS user (which Debian's server package creates), and the temporary folder
belongs to that user.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import re
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import port_for
from mirakuru.exceptions import ExecutorError
from pytest_postgresql.executors import PostgreSQLExecutor

PG_BIN_GLOB = "/usr/lib/postgresql/*/bin"
DEFAULT_PORT = 5432  # the machine's own server, if any, is never this one's port
SERVER_USERS = ("postgres", "nobody")  # who runs the server when the tests run as root
# Settings for a server that only tests use: nothing needs to survive a power cut.
SERVER_OPTIONS = (
    "-c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
)
STARTS = 3  # another process may take the chosen port before the server binds it: try a new one


class NoPostgresServer(RuntimeError):
    """Debian's PostgreSQL server binaries are not on this machine."""


def pg_bin_dir() -> Path:
    """The newest `/usr/lib/postgresql/<version>/bin` that holds initdb and pg_ctl."""
    found = [
        folder
        for folder in Path("/").glob(PG_BIN_GLOB.lstrip("/"))
        if (folder / "initdb").is_file() and (folder / "pg_ctl").is_file()
    ]
    if not found:
        raise NoPostgresServer(
            f"no PostgreSQL server binaries (initdb, pg_ctl) in {PG_BIN_GLOB}: run `make postgres-server` "
            "(Debian's postgresql package), or set MD_TEST_PG_ADMIN_URL to an existing server"
        )

    def version(folder: Path) -> tuple[int, ...]:
        return tuple(int(part) for part in re.findall(r"\d+", folder.parent.name))

    return max(found, key=version)


def _server_user() -> pwd.struct_passwd | None:
    """The unprivileged user the server runs as, or None to run it as ourselves (not root)."""
    if os.geteuid() != 0:
        return None
    for name in SERVER_USERS:
        with contextlib.suppress(KeyError):
            return pwd.getpwnam(name)
    raise NoPostgresServer(f"running as root, and none of the users {SERVER_USERS} exists to run PostgreSQL")


def _pg_ctl(folder: Path, bin_dir: Path, user: pwd.struct_passwd | None) -> str:
    """pg_ctl itself, or under root a wrapper that runs it as `user` (initdb and pg_ctl refuse root)."""
    pg_ctl = bin_dir / "pg_ctl"
    if user is None:
        return str(pg_ctl)
    wrapper = folder / "pg_ctl-as-user"
    wrapper.write_text(f'#!/bin/sh\ncd /\nexec runuser -u {user.pw_name} -- "{pg_ctl}" "$@"\n', "utf-8")
    wrapper.chmod(0o755)
    return str(wrapper)


def _log_tail(logfile: Path, lines: int = 30) -> str:
    try:
        return "\n".join(logfile.read_text("utf-8", errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no server log)"


def _wait_accepting(url: str, timeout: float = 60.0) -> None:
    """pg_ctl's -w can return while the server still answers "the database system is starting up"
    (seen on a loaded machine): wait until a connection is accepted."""
    import psycopg

    deadline = time.monotonic() + timeout
    conninfo = url.replace("postgresql+psycopg://", "postgresql://")
    while True:
        try:
            psycopg.connect(conninfo, connect_timeout=5).close()
            return
        except psycopg.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


@contextlib.contextmanager
def postgres_server() -> Iterator[str]:
    """Start a private PostgreSQL server; yield its admin URL (database `postgres`); stop and remove it."""
    bin_dir = pg_bin_dir()
    user = _server_user()
    folder = Path(tempfile.mkdtemp(prefix="md-test-pg-"))
    try:
        if user is not None:
            os.chown(folder, user.pw_uid, user.pw_gid)
        executable = _pg_ctl(folder, bin_dir, user)
        logfile = folder / "postgresql.log"
        executor: PostgreSQLExecutor | None = None
        for attempt in range(1, STARTS + 1):
            port = port_for.select_random(exclude_ports=[DEFAULT_PORT])
            executor = PostgreSQLExecutor(
                executable=executable,
                host="127.0.0.1",
                port=port,
                datadir=str(folder / "data"),
                unixsocketdir=str(folder),
                logfile=str(logfile),
                startparams="-w",
                dbname="postgres",
                user="postgres",
                postgres_options=SERVER_OPTIONS,
                timeout=120,
            )
            try:
                executor.start()
                break
            except ExecutorError as exc:
                with contextlib.suppress(Exception):
                    executor.stop()
                executor = None
                if attempt == STARTS:
                    raise RuntimeError(
                        f"PostgreSQL ({bin_dir}) did not start: {exc}\n{_log_tail(logfile)}"
                    ) from exc
        assert executor is not None
        url = f"postgresql+psycopg://postgres@127.0.0.1:{executor.port}/postgres"
        try:
            _wait_accepting(url)
            yield url
        finally:
            executor.stop()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
