"""The worker's write path into the desk database (sync SQLAlchemy, called from an executor)."""

from __future__ import annotations

from collections.abc import Sequence

from desk.store.engine import make_engine, make_session_factory, migrate
from desk.store.repository import persist_batch
from schemas import ScoredMention


class MentionWriter:
    """Owns the worker's engine; migrates the schema on first use."""

    def __init__(self, database_url: str) -> None:
        migrate(database_url)
        self._engine = make_engine(database_url)
        self._sessions = make_session_factory(self._engine)

    def save(self, mentions: Sequence[ScoredMention]) -> int:
        """Write a batch in one transaction; returns how many mentions were new."""
        return persist_batch(self._sessions, mentions)

    def close(self) -> None:
        self._engine.dispose()
