"""Tables of the analytics side: negativity-spike alerts and the daily digests sent.

`core.db.tables` imports it with the other model modules, so Base.metadata (and Alembic) sees them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Float, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from core.db.base import Base, utc_now


class AlertRow(Base):
    """One spike alert, unique by its alert_id (brand, source, topic, window): redelivery of the
    same alert from `alerts.v1` inserts nothing and delivers nothing twice."""

    __tablename__ = "alerts"
    __table_args__ = (Index("ix_alerts_window_start", "window_start"),)

    alert_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    brand: Mapped[str | None] = mapped_column(String(255))
    source: Mapped[str | None] = mapped_column(String(64))
    topic: Mapped[str | None] = mapped_column(String(64))
    window_start: Mapped[datetime]
    window_end: Mapped[datetime]
    negative_count: Mapped[int] = mapped_column(Integer)
    total_count: Mapped[int] = mapped_column(Integer)
    negative_share: Mapped[float] = mapped_column(Float)
    baseline_share: Mapped[float] = mapped_column(Float)
    score: Mapped[float] = mapped_column(Float)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)  # the Alert as sent on alerts.v1
    raised_at: Mapped[datetime]
    stored_at: Mapped[datetime] = mapped_column(default=utc_now)
    webhook_status: Mapped[str | None] = mapped_column(String(255))  # None: not configured
    email_status: Mapped[str | None] = mapped_column(String(255))
    acknowledged_at: Mapped[datetime | None]
    acknowledged_by: Mapped[str | None] = mapped_column(String(64))


class DigestRun(Base):
    """A daily digest sent by the scheduler (one row per day, so a restart does not send twice)."""

    __tablename__ = "digest_runs"

    day: Mapped[str] = mapped_column(String(10), primary_key=True)  # YYYY-MM-DD
    sent_at: Mapped[datetime] = mapped_column(default=utc_now)
    recipients: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(255))


__all__ = ["AlertRow", "DigestRun"]
