"""Tables of the ingest side: collector health, hourly counts, and replies sent from the desk.

`core.db.tables` imports it with the other model modules, so Base.metadata (and Alembic) sees them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Final

from sqlalchemy import CheckConstraint, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from core.db.base import Base, utc_now

COLLECTOR_STATES: Final = ("ok", "failing", "rate_limited", "stopped")
REPLY_STATUSES: Final = ("queued", "sending", "sent", "failed", "manual")


class CollectorHealth(Base):
    """One row per collector, written by the runner after every poll.

    "stalled" is not stored: it is read as "no success for `stall_periods` poll periods", so a
    runner that died (and writes nothing) still shows up as stalled.
    """

    __tablename__ = "collector_health"
    __table_args__ = (CheckConstraint(f"state IN {COLLECTOR_STATES!r}", name="state"),)

    collector: Mapped[str] = mapped_column(String(128), primary_key=True)
    state: Mapped[str] = mapped_column(String(16), default="ok")
    poll_interval_s: Mapped[float] = mapped_column(Float)
    started_at: Mapped[datetime | None]
    last_poll_at: Mapped[datetime | None]
    last_success_at: Mapped[datetime | None]
    last_error_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    alert: Mapped[str | None] = mapped_column(Text)
    alert_at: Mapped[datetime | None]
    retry_at: Mapped[datetime | None]
    mentions_total: Mapped[int] = mapped_column(Integer, default=0)
    newest_mention_at: Mapped[datetime | None]
    lag_s: Mapped[float | None] = mapped_column(Float)
    updated_at: Mapped[datetime] = mapped_column(default=utc_now, onupdate=utc_now)


class CollectorHourly(Base):
    """Mentions delivered per collector and hour (UTC), for "mentions per hour"."""

    __tablename__ = "collector_hourly"

    collector: Mapped[str] = mapped_column(String(128), primary_key=True)
    hour: Mapped[datetime] = mapped_column(primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0)


class Reply(Base):
    """A reply written on the desk, from queued to sent/failed/manual.

    `reply_id` is the idempotency key end to end: the publisher marks a reply `sending` (and counts
    the attempt) before calling the network, so after a crash it checks the network instead of
    posting twice.
    """

    __tablename__ = "replies"
    __table_args__ = (
        CheckConstraint(f"status IN {REPLY_STATUSES!r}", name="status"),
        Index("ix_replies_unsettled", "settled_at", "status"),
    )

    reply_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    thread_key: Mapped[str] = mapped_column(String(255), index=True)
    in_reply_to: Mapped[str] = mapped_column(String(255))
    source: Mapped[str] = mapped_column(String(64))
    text: Mapped[str] = mapped_column(Text)
    agent: Mapped[str] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(16), default="queued", index=True)
    external_id: Mapped[str | None] = mapped_column(String(255))
    url: Mapped[str | None] = mapped_column(Text)
    error: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    first_attempt_at: Mapped[datetime | None]
    confirmed_at: Mapped[datetime | None]
    settled_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    updated_at: Mapped[datetime] = mapped_column(default=utc_now, onupdate=utc_now)


class ReplyOutbox(Base):
    """A reply still to be handed to the broker, or handed and not yet answered by the publisher.

    Written in the desk's transaction that records the reply, so a reply is never recorded without
    its way out; the relay (`core.bus.relay`) publishes rows whose `due_at` passed and sets the next
    `due_at`; the publisher deletes the row with the reply's final result.
    """

    __tablename__ = "reply_outbox"

    reply_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("replies.reply_id", ondelete="CASCADE"), primary_key=True
    )
    payload: Mapped[str] = mapped_column(Text)
    due_at: Mapped[datetime] = mapped_column(index=True)
    published_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    published_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utc_now)


__all__ = ["COLLECTOR_STATES", "REPLY_STATUSES", "CollectorHealth", "CollectorHourly", "Reply", "ReplyOutbox"]
