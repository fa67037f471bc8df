"""Collector health: what the runner records after every poll, and how it reads back.

Stored per collector: state (ok, failing, rate_limited, stopped), last success, last error with its
message, an alert, mentions delivered (total and per hour) and lag. "stalled" is computed on read:
no successful poll for `stall_periods` poll periods, so a runner that died - and can no longer
write anything - still shows up. Channels never stop silently: failing, stopped and stalled
collectors all carry an alert.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from desk.store.repository_ingest import add_delivered, health_rows, mentions_last_hour, upsert_health
from schemas import Mention

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class CollectorStatus:
    collector: str
    state: str  # ok, failing, rate_limited, stopped or stalled
    last_success_at: datetime | None
    last_error_at: datetime | None
    last_error: str | None
    alert: str | None
    mentions_total: int
    mentions_per_hour: int
    lag_s: float | None
    retry_at: datetime | None
    poll_interval_s: float


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


def read_status(session: Session, now: datetime, stall_periods: int) -> list[CollectorStatus]:
    """Every collector's health as users see it, with stalled computed and alerts filled in."""
    per_hour = mentions_last_hour(session, now)
    out: list[CollectorStatus] = []
    for row in health_rows(session):
        limit = timedelta(seconds=row.poll_interval_s * stall_periods)
        since = row.last_success_at or row.started_at or row.updated_at
        stalled = row.state != "stopped" and now - since > limit
        state = "stalled" if stalled and row.state != "failing" else row.state
        alert = row.alert
        if alert is None and row.state == "failing":
            alert = f"failing: {row.last_error}"
        if alert is None and stalled:
            when = row.last_success_at.isoformat(timespec="seconds") if row.last_success_at else "never"
            alert = f"stalled: no successful poll for {stall_periods} poll periods (last success: {when})"
        out.append(
            CollectorStatus(
                collector=row.collector,
                state=state,
                last_success_at=row.last_success_at,
                last_error_at=row.last_error_at,
                last_error=row.last_error,
                alert=alert,
                mentions_total=row.mentions_total,
                mentions_per_hour=per_hour.get(row.collector, 0),
                lag_s=row.lag_s,
                retry_at=row.retry_at,
                poll_interval_s=row.poll_interval_s,
            )
        )
    return out
