"""Collector health: what the runner records after every poll (read back by core.db.collector_status).

Stored per collector: state (ok, failing, rate_limited, stopped), last success, last error with its
message, an alert, mentions delivered (total and per hour) and lag. "stalled" is computed on read:
no successful poll for `stall_periods` poll periods, so a runner that died - and can no longer
write anything - still shows up. Channels never stop silently: failing, stopped and stalled
collectors all carry an alert.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from core.db.repository_ingest import add_delivered, upsert_health
from schemas import Mention

log = logging.getLogger(__name__)


class HealthBook:
    """The runner's writes; every call is its own short transaction."""

    def __init__(self, sessions: sessionmaker[Session], poll_interval_s: float) -> None:
        self.sessions = sessions
        self.poll_interval_s = poll_interval_s

    def _write(self, collector: str, **values: object) -> None:
        with self.sessions() as session:
            upsert_health(session, collector, poll_interval_s=self.poll_interval_s, **values)
            session.commit()

    def started(self, collector: str, now: datetime) -> None:
        self._write(collector, started_at=now, state="ok", alert=None, alert_at=None, retry_at=None)

    def delivered_in(
        self, session: Session, collector: str, mentions: Sequence[Mention], now: datetime
    ) -> None:
        """Count delivered mentions inside the caller's transaction (the one that saves cursors)."""
        if not mentions:
            return
        newest = max(m.created_at for m in mentions)
        upsert_health(
            session,
            collector,
            poll_interval_s=self.poll_interval_s,
            newest_mention_at=newest,
            lag_s=max(0.0, (now - newest).total_seconds()),
        )
        add_delivered(session, collector, len(mentions), now)

    def succeeded(self, collector: str, now: datetime) -> None:
        self._write(
            collector,
            state="ok",
            last_poll_at=now,
            last_success_at=now,
            alert=None,
            alert_at=None,
            retry_at=None,
        )

    def failed(
        self,
        collector: str,
        message: str,
        now: datetime,
        *,
        state: str = "failing",
        retry_at: datetime | None = None,
        alert: str | None = None,
    ) -> None:
        values: dict[str, object] = {
            "state": state,
            "last_poll_at": now,
            "last_error_at": now,
            "last_error": message,
            "retry_at": retry_at,
        }
        if alert is not None:
            values.update(alert=alert, alert_at=now)
            log.error("ALERT %s: %s", collector, alert)
        self._write(collector, **values)

    def noted(self, collector: str, message: str, now: datetime) -> None:
        """An error that did not stop the poll (a skipped page): recorded, state unchanged."""
        self._write(collector, last_error_at=now, last_error=message)
