"""Engines, sessions and schema migration for SQLite (default) and PostgreSQL (by URL)."""

from __future__ import annotations

import sqlite3
import time
import zlib
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
SQLITE_BUSY_TIMEOUT_MS = 30_000
# One advisory lock id for "someone is migrating this database" (any stable 63-bit number).
_MIGRATE_LOCK_ID = zlib.crc32(b"mentiondesk.migrate")


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine for `url`.

    SQLite: creates the parent folder, turns on WAL (readers never block the writer), foreign keys
    and a busy timeout so concurrent writers wait instead of failing. PostgreSQL: pool_pre_ping.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:" and not database.startswith("file:"):
            Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        connect_args = {"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000, **kwargs.pop("connect_args", {})}
        engine = create_engine(url, connect_args=connect_args, **kwargs)
        event.listen(engine, "connect", _sqlite_on_connect)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    return create_engine(url, **kwargs)


def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    try:
        _set_wal(cursor)
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA synchronous=NORMAL")
    finally:
        cursor.close()


def _set_wal(cursor: Any) -> None:
    """Switch to WAL, waiting while another connection holds a lock on a fresh database: SQLite
    answers "locked" at once there (no busy handler), e.g. while a concurrent `migrate` runs."""
    deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions that keep loaded objects usable after commit (the desk reads them after)."""
    return sessionmaker(bind=engine, expire_on_commit=False)


def alembic_config(url: str) -> Config:
    """An Alembic config pointing at the packaged migrations; no alembic.ini needed."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


class SchemaBehind(RuntimeError):
    """The database's schema is not the one this version of mentiondesk needs."""


def code_revision() -> str:
    """The one head of the packaged migrations (a merge revision joins branches)."""
    heads = ScriptDirectory.from_config(alembic_config("sqlite://")).get_heads()
    if len(heads) != 1:
        raise RuntimeError(f"the migrations have {len(heads)} heads {sorted(heads)}; add a merge revision")
    return heads[0]


def database_revisions(url: str) -> set[str]:
    """The revisions the database at `url` is stamped with (empty when it was never migrated)."""
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return set(MigrationContext.configure(connection).get_current_heads())
    finally:
        engine.dispose()


def require_current_schema(url: str) -> None:
    """Stop a process that only reads and writes rows (worker, collectors, publisher) before it
    touches a database whose schema is behind: `mentiondesk migrate` (or `up`, or the desk) must run
    first. Raises SchemaBehind with what to do."""
    wanted = code_revision()
    found = database_revisions(url)
    if found != {wanted}:
        where = ", ".join(sorted(found)) or "no schema"
        raise SchemaBehind(
            f"the database is at {where}, this version needs {wanted}: run `mentiondesk migrate` first"
        )


def migrate(url: str) -> None:
    """Bring the database at `url` to the newest schema (`alembic upgrade heads`).

    Safe when several processes start at once on one database: PostgreSQL serialises on an
    advisory lock; SQLite runs the whole upgrade inside `BEGIN IMMEDIATE`, so a second process waits
    on the write lock (busy timeout) and then finds the schema already at head.
    """
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            config = alembic_config(url)
            config.attributes["connection"] = connection
            if connection.dialect.name == "postgresql":
                connection.execute(text("SELECT pg_advisory_lock(:k)"), {"k": _MIGRATE_LOCK_ID})
                connection.commit()
                try:
                    command.upgrade(config, "heads")
                    connection.commit()
                finally:
                    connection.rollback()
                    connection.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": _MIGRATE_LOCK_ID})
                    connection.commit()
            elif connection.dialect.name == "sqlite":
                connection.exec_driver_sql("BEGIN IMMEDIATE")
                command.upgrade(config, "heads")
                connection.commit()
            else:
                command.upgrade(config, "heads")
                connection.commit()
    finally:
        engine.dispose()
