"""Fixtures for real parts: fresh PostgreSQL databases, SQLite files."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from core.db.scratch import scratch_postgres_database

PG_ADMIN_URL = os.environ.get("MD_TEST_PG_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this test session, dropped at the end."""
    with scratch_postgres_database(PG_ADMIN_URL, "md_test_") as url:
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
    with scratch_postgres_database(PG_ADMIN_URL, "md_t_") as url:
        yield url
