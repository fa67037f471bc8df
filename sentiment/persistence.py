"""The worker's write path into the desk database (sync SQLAlchemy, called from an executor)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence

from desk.store.engine import make_engine, make_session_factory, migrate
from desk.store.repository import persist_batch
from schemas import ScoredMention

log = logging.getLogger(__name__)


class MentionWriter:
    """Owns the worker's engine; migrates the schema on first use.

    New threads get their desk row, owner and clocks (desk.services.sync) at most every
    `sync_interval_s`: one routing pass per batch cost the scorer a good share of the two cores
    under load, while a pass every few seconds covers every batch written since the last one.
    The worker's timer calls `sync_if_due` so the last batch of a burst is routed too.
    """

    def __init__(
        self,
        database_url: str,
        sync_interval_s: float = 2.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        migrate(database_url)
        self._engine = make_engine(database_url)
        self._sessions = make_session_factory(self._engine)
        self._sync_interval_s = sync_interval_s
        self._clock = clock
        self._last_sync = float("-inf")
        self.unsynced = False

    def save(self, mentions: Sequence[ScoredMention]) -> int:
        """Write a batch in one transaction; returns how many mentions were new."""
        inserted = persist_batch(self._sessions, mentions)
        if inserted:
            self.unsynced = True
            self.sync_if_due()
        return inserted

    def sync_if_due(self, force: bool = False) -> bool:
        """Route new threads if some are waiting and the interval has passed (or `force`)."""
        if not self.unsynced:
            return False
        if not force and self._clock() - self._last_sync < self._sync_interval_s:
            return False
        self._last_sync = self._clock()
        self.unsynced = not self._route_new_threads()
        return True

    def _route_new_threads(self) -> bool:
        """Give every new thread its desk row, owner and clocks now. A failed pass loses nothing:
        the next pass, here or on the desk's queue page, picks the threads up."""
        from desk.services.sync import sync_threads

        try:
            with self._sessions.begin() as session:
                sync_threads(session)
            return True
        except Exception:
            log.exception("desk sync after a batch failed; the next pass retries")
            return False

    def close(self) -> None:
        self.sync_if_due(force=True)
        self._engine.dispose()
