"""Fixtures for real parts: fresh PostgreSQL databases, SQLite files.

PostgreSQL: the server at `MD_TEST_PG_ADMIN_URL` when that is set (nothing is started); otherwise
every test process (each pytest-xdist worker) starts a private server on a free port the first time
a test asks for a database, and stops it at the end of the session (tests/pg_server.py). Either way
every test gets a fresh database of its own on it, dropped afterwards.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

# Before anything reads the settings: a developer's .env (real tokens among them) must not reach the
# tests or the commands they start (subprocesses inherit this variable). See core.settings.
os.environ["MENTIONDESK_ENV_FILE"] = os.devnull
# The desk speaks Russian by default (MD_DESK_LANGUAGE); the tests written against its English
# texts run in English, and the language tests (tests/integration/test_desk_languages.py) choose
# their language explicitly. Subprocesses inherit this too.
os.environ.setdefault("MD_DESK_LANGUAGE", "en")

import pytest

from core.db.scratch import scratch_postgres_database
from tests.pg_server import postgres_server


@pytest.fixture(scope="session")
def pg_admin_url() -> Iterator[str]:
    """An admin URL (a superuser, database `postgres`) of the PostgreSQL server the tests use."""
    given = os.environ.get("MD_TEST_PG_ADMIN_URL")
    if given:
        yield given
        return
    with postgres_server() as url:
        yield url


@pytest.fixture(scope="session")
def postgres_url(pg_admin_url: str) -> Iterator[str]:
    """A fresh PostgreSQL database for this test session, dropped at the end."""
    with scratch_postgres_database(pg_admin_url, "md_test_") as url:
        yield url


@pytest.fixture
def sqlite_url(tmp_path: os.PathLike[str]) -> str:
    return f"sqlite:///{tmp_path}/mentiondesk.db"


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: os.PathLike[str]) -> Iterator[str]:
    """Both databases, each test on an empty schema of its own."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/mentiondesk.db"
        return
    admin_url: str = request.getfixturevalue("pg_admin_url")
    with scratch_postgres_database(admin_url, "md_t_") as url:
        yield url
