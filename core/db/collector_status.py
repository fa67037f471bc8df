"""Collector health as users see it: the stored rows with "stalled" computed on read.

"stalled" is computed here, not stored: no successful poll for `stall_periods` poll periods, so a
runner that died - and can no longer write anything - still shows up. Failing, stopped and stalled
collectors all carry an alert. The runner's writing side is `ingest.health.HealthBook`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from core.db.repository_ingest import health_rows, mentions_last_hour
from core.i18n import _, _n


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
            alert = _("failing: {error}").format(error=row.last_error)
        if alert is None and stalled:
            when = row.last_success_at.isoformat(timespec="seconds") if row.last_success_at else _("never")
            alert = _n(
                "stalled: no successful poll for {n} poll period (last success: {when})",
                "stalled: no successful poll for {n} poll periods (last success: {when})",
                stall_periods,
                when=when,
            )
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
