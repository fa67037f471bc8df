"""Tables of the desk's domain: users and teams, routing, clocks, notes, compensation, merges,
corrections, presence and the audit log.

`core.db.tables` imports it with the other model modules, so Base.metadata (and Alembic) sees them.
`threads` stays the ingest side's table; what the desk adds to a case lives in `desk_threads` (1:1).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from core.db.base import Base, utc_now
from core.db.models import Thread

ROLES: Final = ("agent", "manager", "brand_lead", "admin")
CLOCKS: Final = ("first_response", "status_update", "resolution")
CLOCK_EVENTS: Final = ("started", "hit", "missed", "paused", "resumed")
COMPENSATION_KINDS: Final = ("promo_code", "bonus", "refund", "gift", "other")


class DeskUser(Base):
    """A local desk user; the password is an argon2 hash, never stored in clear."""

    __tablename__ = "desk_users"
    __table_args__ = (CheckConstraint(f"role IN {ROLES!r}", name="role"),)

    username: Mapped[str] = mapped_column(String(64), primary_key=True)
    display_name: Mapped[str | None] = mapped_column(String(255))
    password_hash: Mapped[str] = mapped_column(Text)
    role: Mapped[str] = mapped_column(String(16))
    team: Mapped[str | None] = mapped_column(String(64))
    cap: Mapped[int] = mapped_column(Integer, default=20)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    last_login_at: Mapped[datetime | None]
    # set for a printed first password: the desk shows only the change form until it is changed
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False)
    # browser sessions signed in before this time are ended (another tab, another device)
    password_changed_at: Mapped[datetime | None]
    # the desk's language for this user ("ru", "en"); None: MD_DESK_LANGUAGE
    language: Mapped[str | None] = mapped_column(String(8))


class DeskTeam(Base):
    """A team; `rr_last` is the agent who got the team's last thread (the round-robin pointer)."""

    __tablename__ = "desk_teams"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    rr_last: Mapped[str | None] = mapped_column(String(64))


class DeskShift(Base):
    """An agent is on shift on `weekday` (0 = Monday) from `start_min` to `end_min` (desk time zone)."""

    __tablename__ = "desk_shifts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(ForeignKey("desk_users.username", ondelete="CASCADE"), index=True)
    weekday: Mapped[int] = mapped_column(Integer)
    start_min: Mapped[int] = mapped_column(Integer)
    end_min: Mapped[int] = mapped_column(Integer)


class RoutingRule(Base):
    """First matching rule (lowest position) picks the team. Empty fields match anything;
    `keywords` and `vip_authors` are comma-separated lists (any one matches)."""

    __tablename__ = "routing_rules"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    position: Mapped[int] = mapped_column(Integer, default=100)
    team: Mapped[str] = mapped_column(String(64))
    source: Mapped[str | None] = mapped_column(String(64))
    brand: Mapped[str | None] = mapped_column(String(255))
    lang: Mapped[str | None] = mapped_column(String(16))
    topic: Mapped[str | None] = mapped_column(String(64))
    keywords: Mapped[str | None] = mapped_column(Text)
    vip_authors: Mapped[str | None] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class ReplyTemplate(Base):
    __tablename__ = "reply_templates"

    name: Mapped[str] = mapped_column(String(128), primary_key=True)
    body: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(default=utc_now, onupdate=utc_now)


class DeskSetting(Base):
    """Desk-wide settings edited on the admin page (the business calendar), as JSON by key."""

    __tablename__ = "desk_settings"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[dict[str, Any]] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(default=utc_now, onupdate=utc_now)


class DeskThread(Base):
    """The desk's side of a case: team, clocks, priority, merge and the optimistic-lock version.

    `rank_at` is the thread's effective deadline: the next due clock minus a head start for
    negativity, author reach and a low review rating. Ordering by it ascending is the priority
    order, and it does not change while time passes, so it can be indexed.
    """

    __tablename__ = "desk_threads"

    thread_id: Mapped[int] = mapped_column(ForeignKey("threads.id", ondelete="CASCADE"), primary_key=True)
    team: Mapped[str | None] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer, default=1)
    seen_message_at: Mapped[datetime | None]
    seen_status: Mapped[str | None] = mapped_column(String(16))
    seen_negativity: Mapped[float | None] = mapped_column(Float)
    """The thread's highest negativity when the sync job last ranked it (a late, older message can
    raise it without changing the last message's time)."""
    cycle: Mapped[int] = mapped_column(Integer, default=1)
    cycle_started_at: Mapped[datetime | None]
    first_response_due: Mapped[datetime | None]
    first_response_at: Mapped[datetime | None]
    first_response_missed: Mapped[bool] = mapped_column(Boolean, default=False)
    update_due: Mapped[datetime | None]
    last_update_at: Mapped[datetime | None]
    update_missed: Mapped[bool] = mapped_column(Boolean, default=False)
    resolution_due: Mapped[datetime | None]
    resolution_missed: Mapped[bool] = mapped_column(Boolean, default=False)
    paused_at: Mapped[datetime | None]
    reach: Mapped[int] = mapped_column(Integer, default=0)
    rating: Mapped[float | None] = mapped_column(Float)
    rank_at: Mapped[datetime | None] = mapped_column(index=True)
    merged_into: Mapped[int | None] = mapped_column(ForeignKey("threads.id", ondelete="SET NULL"))
    merged_prev_status: Mapped[str | None] = mapped_column(String(16))
    updated_at: Mapped[datetime] = mapped_column(default=utc_now, onupdate=utc_now)


class ClockEvent(Base):
    __tablename__ = "clock_events"
    __table_args__ = (
        CheckConstraint(f"clock IN {CLOCKS!r}", name="clock"),
        CheckConstraint(f"event IN {CLOCK_EVENTS!r}", name="event"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    thread_id: Mapped[int] = mapped_column(ForeignKey("threads.id", ondelete="CASCADE"), index=True)
    cycle: Mapped[int] = mapped_column(Integer, default=1)
    clock: Mapped[str] = mapped_column(String(16))
    event: Mapped[str] = mapped_column(String(16))
    due_at: Mapped[datetime | None]
    at: Mapped[datetime] = mapped_column(default=utc_now)


class ThreadNote(Base):
    """An internal note: seen by the team only, never sent to the customer."""

    __tablename__ = "thread_notes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    thread_id: Mapped[int] = mapped_column(ForeignKey("threads.id", ondelete="CASCADE"), index=True)
    author: Mapped[str] = mapped_column(String(64))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utc_now)


class Compensation(Base):
    __tablename__ = "compensations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    thread_id: Mapped[int] = mapped_column(ForeignKey("threads.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    value: Mapped[float] = mapped_column(Float, default=0.0)
    code: Mapped[str | None] = mapped_column(String(128))
    given_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utc_now)


class AuditEntry(Base):
    """Who did what and when: assignments, replies, status changes, merges, corrections."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utc_now, index=True)
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(32))
    thread_id: Mapped[int | None] = mapped_column(Integer, index=True)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class SentimentCorrection(Base):
    """An agent's corrected label for one message, kept for the model to learn from."""

    __tablename__ = "sentiment_corrections"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    mention_id: Mapped[int] = mapped_column(ForeignKey("mentions.id", ondelete="CASCADE"), index=True)
    text: Mapped[str] = mapped_column(Text)
    lang: Mapped[str | None] = mapped_column(String(16))
    model_label: Mapped[str] = mapped_column(String(16))
    model_version: Mapped[str] = mapped_column(String(128))
    label: Mapped[str] = mapped_column(String(16))
    corrected_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utc_now)


class ThreadViewer(Base):
    """Presence: who has a thread open, refreshed by a heartbeat while the page is shown."""

    __tablename__ = "thread_viewers"

    thread_id: Mapped[int] = mapped_column(ForeignKey("threads.id", ondelete="CASCADE"), primary_key=True)
    username: Mapped[str] = mapped_column(String(64), primary_key=True)
    seen_at: Mapped[datetime] = mapped_column(default=utc_now)


class SigninThrottle(Base):
    """Consecutive failed sign-ins of one user name (`user:NAME`) or one client (`client:ADDRESS`,
    `session:ID`) and the lockout they earned; `lockouts` makes each next lockout longer."""

    __tablename__ = "desk_signin_throttle"

    key: Mapped[str] = mapped_column(String(160), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    lockouts: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=utc_now, index=True)


# The desk's sync job reads threads changed since its last pass; "my threads" reads one owner's.
Index("ix_threads_updated_at", Thread.updated_at)
Index("ix_threads_assigned_to", Thread.assigned_to)

__all__ = [
    "CLOCKS",
    "CLOCK_EVENTS",
    "COMPENSATION_KINDS",
    "ROLES",
    "AuditEntry",
    "ClockEvent",
    "Compensation",
    "DeskSetting",
    "DeskShift",
    "DeskTeam",
    "DeskThread",
    "DeskUser",
    "ReplyTemplate",
    "RoutingRule",
    "SentimentCorrection",
    "SigninThrottle",
    "ThreadNote",
    "ThreadViewer",
]
