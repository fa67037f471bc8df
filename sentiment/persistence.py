"""The worker's write path into the database (sync SQLAlchemy, called from an executor)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from sqlalchemy.orm import Session, sessionmaker

from core.db.repository import is_poison, persist_batch
from schemas import ScoredMention

log = logging.getLogger(__name__)

AfterSave = Callable[[Session], object]


@dataclass(slots=True)
class SaveOutcome:
    """What a batch write did: how many mentions were new, and which the database refused (why)."""

    inserted: int = 0
    refused: list[tuple[ScoredMention, str]] = field(default_factory=list)


def _reason(exc: BaseException) -> str:
    first_line = str(getattr(exc, "orig", None) or exc).strip().splitlines()[:1]
    return f"database refused the mention: {type(exc).__name__}: {' '.join(first_line)}"[:500]


class MentionWriter:
    """Writes scored mentions; then runs `after_save` (the desk's routing pass, handed in by the
    wiring) on the threads they opened.

    New threads get their desk row, owner and clocks at most every `sync_interval_s`: one routing
    pass per batch cost the scorer a good share of the two cores under load, while a pass every few
    seconds covers every batch written since the last one.
    The worker's timer calls `sync_if_due` so the last batch of a burst is routed too.
    """

    def __init__(
        self,
        sessions: sessionmaker[Session],
        after_save: AfterSave | None = None,
        sync_interval_s: float = 2.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._sessions = sessions
        self._after_save = after_save
        self._sync_interval_s = sync_interval_s
        self._clock = clock
        self._last_sync = float("-inf")
        self.unsynced = False

    def save(self, mentions: Sequence[ScoredMention]) -> SaveOutcome:
        """Write a batch in one transaction (idempotent on (source, external_id)). A batch the
        database refuses for its data (`is_poison`) is split in halves, down to single mentions:
        the refused ones are returned with the reason, the rest are stored. A transient error
        (connection lost, lock timeout) is raised for the caller to pause and retry the whole
        batch; halves already stored are skipped then (ON CONFLICT)."""
        outcome = SaveOutcome()
        self._save_narrowing(list(mentions), outcome)
        if outcome.inserted and self._after_save is not None:
            self.unsynced = True
            self.sync_if_due()
        return outcome

    def _save_narrowing(self, mentions: list[ScoredMention], outcome: SaveOutcome) -> None:
        if not mentions:
            return
        try:
            outcome.inserted += persist_batch(self._sessions, mentions)
            return
        except Exception as exc:
            if not is_poison(exc):
                raise
            if len(mentions) == 1:
                log.warning(
                    "database refused mention %s/%s: %s", mentions[0].source, mentions[0].external_id, exc
                )
                outcome.refused.append((mentions[0], _reason(exc)))
                return
        middle = len(mentions) // 2
        self._save_narrowing(mentions[:middle], outcome)
        self._save_narrowing(mentions[middle:], outcome)

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
        if self._after_save is None:
            return True
        try:
            with self._sessions.begin() as session:
                self._after_save(session)
            return True
        except Exception:
            log.exception("desk sync after a batch failed; the next pass retries")
            return False

    def close(self) -> None:
        """Route what is still waiting (the sessions' engine belongs to the caller)."""
        self.sync_if_due(force=True)
