"""The outbox relay: replies the desk recorded go to `replies.outbound.v1`, and again until the
publisher answers them.

It runs beside the publisher (`mentiondesk publisher`), so wherever replies are posted they are
also handed over. Each pass takes the due outbox rows (`core.db.outbox.due`), sends them keyed by
thread, waits for the broker's acknowledgement, and only then moves their `due_at` on by the
redelivery interval. A broker that is down leaves the rows due: the next pass tries again.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from pydantic import ValidationError
from sqlalchemy.orm import Session, sessionmaker

from core.bus.errors import MessageTooLarge
from core.bus.producer import BrokerUnavailable, DeliveryFailed, MentionProducer
from core.db import outbox
from core.db.models_ingest import ReplyOutbox
from schemas import Reply
from schemas.topics import REPLIES_OUTBOUND

log = logging.getLogger(__name__)

SET_ASIDE = timedelta(hours=1)
"""How long a row that cannot be sent waits before it is tried again (and logged again)."""


class OutboxRelay:
    """Publishes due outbox rows; one `run_once` is one pass."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        bootstrap: str,
        *,
        redeliver_after: timedelta,
        retry_after: timedelta = timedelta(seconds=5),
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.sessions = sessions
        self.bootstrap = bootstrap
        self.redeliver_after = redeliver_after
        self.retry_after = retry_after
        self.clock = clock
        self._producer: MentionProducer | None = None

    def _connect(self) -> MentionProducer:
        if self._producer is None:
            self._producer = MentionProducer(
                self.bootstrap, topic=REPLIES_OUTBOUND, client_id="mentiondesk-relay"
            )
        return self._producer

    def run_once(self) -> int:
        """Publish what is due; returns how many the broker acknowledged."""
        now = self.clock()
        with self.sessions() as session:
            rows = outbox.due(session, now)
            if not rows:
                return 0
            sent = []
            try:
                producer = self._connect()
                for row in rows:
                    if self._queue(producer, session, row, now):
                        sent.append(row)
                producer.flush(timeout=15.0)
            except (BrokerUnavailable, DeliveryFailed) as exc:
                self.close()
                for row in sent:
                    outbox.postpone(session, row.reply_id, now + self.retry_after, str(exc))
                session.commit()
                log.warning(
                    "relay: %d replies not handed over, again in %s: %s", len(sent), self.retry_after, exc
                )
                return 0
            for row in sent:
                outbox.mark_published(session, row.reply_id, now, now + self.redeliver_after)
            session.commit()
        log.info("relay: handed %d replies to %s", len(sent), REPLIES_OUTBOUND)
        return len(sent)

    def _queue(self, producer: MentionProducer, session: Session, row: ReplyOutbox, now: datetime) -> bool:
        """Queue one row; a row that can never be sent (unreadable, too large) is set aside for
        `SET_ASIDE` with its reason, so it does not hold up the replies behind it."""
        try:
            producer.send_raw(_thread_key(row.payload), row.payload.encode("utf-8"), row.reply_id)
        except (MessageTooLarge, ValidationError) as exc:
            reason = str(exc).splitlines()[0]
            outbox.postpone(session, row.reply_id, now + SET_ASIDE, f"cannot be handed over: {reason}")
            log.error("relay: reply %s cannot be handed over: %s", row.reply_id, reason)
            return False
        return True

    def run(self, stop: threading.Event, interval_s: float = 1.0) -> None:
        """Pass after pass until `stop`; a failing pass is logged and the loop goes on."""
        while not stop.is_set():
            try:
                self.run_once()
            except Exception:  # the database may be down: log, wait, try again
                log.exception("relay: pass failed")
            stop.wait(interval_s)
        self.close()

    def close(self) -> None:
        if self._producer is not None:
            producer, self._producer = self._producer, None
            try:
                producer.close()
            except Exception as exc:  # closing a producer whose broker is gone
                log.debug("relay: closing the producer: %s", exc)


def _thread_key(payload: str) -> bytes:
    """The reply's thread key (the message key, so one thread's replies keep their order)."""
    return Reply.model_validate_json(payload).thread_key.encode("utf-8")
