"""The full-text index of mention texts, one per database kind.

PostgreSQL: a stored generated column `mentions.search_vector` = `to_tsvector('russian', text)`
with a GIN index; the database keeps both current for every write. The column (not only an
expression index) is what keeps ranking cheap: `ts_rank` reads the stored vector instead of parsing
every matching text again (a word in 9,000 of 300,000 mentions: 560 ms with the expression alone).

SQLite: an FTS5 table `mention_fts` whose rowid is the mention's id and whose one column holds the
text's stems (`core.search_text.stem_text`: SQLite has no Russian stemmer of its own). The save of a
batch of mentions adds their rows in its own transaction (`index_mentions`), a trigger removes a
mention's row with the mention, and the migration fills it for the mentions stored before it.

Neither can be described in SQLAlchemy's metadata (a virtual table with its shadow tables; a
column and index of one dialect only), so the schema comparison leaves them out: `is_search_object`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Final

from sqlalchemy import Connection, text
from sqlalchemy.orm import Session

from core.search_text import stem_text

FTS_TABLE: Final = "mention_fts"
PG_INDEX: Final = "ix_mentions_text_search"
PG_CONFIG: Final = "russian"
PG_VECTOR_COLUMN: Final = "search_vector"
PG_VECTOR_SQL: Final = f"to_tsvector('{PG_CONFIG}', text)"
"""What the column holds; a query's `websearch_to_tsquery` must use the same configuration."""

_SQLITE_DELETE_TRIGGER: Final = "mention_fts_delete"
_BACKFILL_BATCH: Final = 2000


def is_search_object(name: str | None, type_: str) -> bool:
    """Whether a reflected table or index is one of these (for Alembic's `include_name`)."""
    if name is None:
        return False
    if type_ == "table":
        return name == FTS_TABLE or name.startswith(f"{FTS_TABLE}_")
    if type_ == "column":
        return name == PG_VECTOR_COLUMN
    return type_ == "index" and name == PG_INDEX


def create(connection: Connection) -> None:
    """Create the dialect's index and fill it from the mentions already stored."""
    if connection.dialect.name == "postgresql":
        connection.execute(
            text(
                f"ALTER TABLE mentions ADD COLUMN IF NOT EXISTS {PG_VECTOR_COLUMN} tsvector "
                f"GENERATED ALWAYS AS ({PG_VECTOR_SQL}) STORED"
            )
        )
        connection.execute(
            text(f"CREATE INDEX IF NOT EXISTS {PG_INDEX} ON mentions USING gin ({PG_VECTOR_COLUMN})")
        )
        return
    connection.execute(text(f"CREATE VIRTUAL TABLE IF NOT EXISTS {FTS_TABLE} USING fts5(stems)"))
    connection.execute(
        text(
            f"CREATE TRIGGER IF NOT EXISTS {_SQLITE_DELETE_TRIGGER} AFTER DELETE ON mentions "
            f"BEGIN DELETE FROM {FTS_TABLE} WHERE rowid = old.id; END"
        )
    )
    backfill(connection)


def drop(connection: Connection) -> None:
    if connection.dialect.name == "postgresql":
        connection.execute(text(f"DROP INDEX IF EXISTS {PG_INDEX}"))
        connection.execute(text(f"ALTER TABLE mentions DROP COLUMN IF EXISTS {PG_VECTOR_COLUMN}"))
        return
    connection.execute(text(f"DROP TRIGGER IF EXISTS {_SQLITE_DELETE_TRIGGER}"))
    connection.execute(text(f"DROP TABLE IF EXISTS {FTS_TABLE}"))


def backfill(connection: Connection, batch: int = _BACKFILL_BATCH) -> int:
    """SQLite: index every mention that has no row yet, in id order; returns how many."""
    if connection.dialect.name != "sqlite":
        return 0
    done, last = 0, 0
    while True:
        rows = connection.execute(
            text(
                f"SELECT m.id, m.text FROM mentions m LEFT JOIN {FTS_TABLE} f ON f.rowid = m.id "
                "WHERE m.id > :last AND f.rowid IS NULL ORDER BY m.id LIMIT :batch"
            ),
            {"last": last, "batch": batch},
        ).all()
        if not rows:
            return done
        _insert_sqlite(connection, ((row.id, row.text) for row in rows))
        done += len(rows)
        last = rows[-1].id


def index_mentions(session: Session, mentions: Sequence[tuple[int, str]]) -> None:
    """Index newly stored mentions (id, text) in the caller's transaction (SQLite; PostgreSQL
    indexes on its own). Does not commit."""
    if mentions and session.get_bind().dialect.name == "sqlite":
        _insert_sqlite(session.connection(), mentions)


def _insert_sqlite(connection: Connection, mentions: Iterable[tuple[int, str]]) -> None:
    rows = [{"id": mention_id, "stems": stem_text(body)} for mention_id, body in mentions]
    if rows:
        connection.execute(
            text(f"INSERT OR REPLACE INTO {FTS_TABLE} (rowid, stems) VALUES (:id, :stems)"), rows
        )
