"""Real-broker fixtures: a fresh embedded broker per test and worker processes started as users do."""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from core.db.engine import make_engine, make_session_factory, migrate
from mentiondesk.broker import EmbeddedBroker, free_port
from tests.support import PROJECT_ROOT, WorkerStarter


@pytest.fixture(autouse=True)
def _keep_main_module() -> Iterator[None]:
    """AppTest leaves the last page script as sys.modules["__main__"]; a process started later with
    multiprocessing's spawn would run that page as its main module. Put the real one back."""
    main = sys.modules.get("__main__")
    yield
    if main is not None:
        sys.modules["__main__"] = main


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    """An engine on a migrated, empty database (SQLite and PostgreSQL, see `database_url`)."""
    migrate(database_url)
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def sessions(engine: Engine) -> sessionmaker[Session]:
    return make_session_factory(engine)


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[EmbeddedBroker]:
    with EmbeddedBroker(free_port(), log_file=tmp_path / "broker.log") as server:
        yield server


@pytest.fixture
def start_worker(tmp_path: Path) -> Iterator[WorkerStarter]:
    """Start `mentiondesk worker` processes; every one still alive is killed at the end."""
    started: list[subprocess.Popen[bytes]] = []

    def start(env: dict[str, str], name: str = "worker") -> subprocess.Popen[bytes]:
        migrate(env["MD_DATABASE_URL"])  # as a user runs `mentiondesk migrate` before the workers
        log = (tmp_path / f"{name}-{len(started)}.log").open("ab")
        process = subprocess.Popen(
            [sys.executable, "-m", "mentiondesk.cli", "worker"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=PROJECT_ROOT,
        )
        log.close()
        started.append(process)
        return process

    yield start
    for process in started:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
