"""The worker's write path into the desk database (sync SQLAlchemy, called from an executor)."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from desk.store.engine import make_engine, make_session_factory, migrate
from desk.store.repository import persist_batch
from schemas import ScoredMention

log = logging.getLogger(__name__)


class MentionWriter:
    """Owns the worker's engine; migrates the schema on first use."""

    def __init__(self, database_url: str) -> None:
        migrate(database_url)
        self._engine = make_engine(database_url)
        self._sessions = make_session_factory(self._engine)

    def save(self, mentions: Sequence[ScoredMention]) -> int:
        """Write a batch in one transaction; returns how many mentions were new."""
        inserted = persist_batch(self._sessions, mentions)
        if inserted:
            self._route_new_threads()
        return inserted

    def _route_new_threads(self) -> None:
        """Give every new thread its desk row, owner and clocks now (desk.services.sync). A failed
        pass loses nothing: the next pass, here or on the desk's queue page, picks the threads up."""
        from desk.services.sync import sync_threads

        try:
            with self._sessions.begin() as session:
                sync_threads(session)
        except Exception:
            log.exception("desk sync after a batch failed; the next pass retries")

    def close(self) -> None:
        self._engine.dispose()
