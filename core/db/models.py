"""SQLAlchemy 2 models of the stream's tables: authors, threads (cases), mentions, collector cursors.

The other tables live beside it (models_desk, models_ingest, models_analytics); `core.db.tables`
imports them all for Alembic.
"""

from __future__ import annotations

from datetime import datetime
from typing import Final

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
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db.base import Base, UtcDateTime, utc_now

THREAD_STATUSES: Final = ("new", "open", "waiting", "resolved", "closed")
LABELS: Final = ("negative", "neutral", "positive")


class Author(Base):
    """A network account, unique by (source, author_id)."""

    __tablename__ = "authors"
    __table_args__ = (UniqueConstraint("source", "author_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(String(64))
    author_id: Mapped[str] = mapped_column(String(255))
    name: Mapped[str | None] = mapped_column(String(255))
    handle: Mapped[str | None] = mapped_column(String(255))
    url: Mapped[str | None] = mapped_column(Text)
    followers: Mapped[int | None] = mapped_column(Integer)
    is_brand: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    updated_at: Mapped[datetime] = mapped_column(default=utc_now, onupdate=utc_now)


class Thread(Base):
    """A case: a customer's post and everything under it, unique by (source, thread_key).

    The root is the earliest mention seen (a reply may arrive before its post; the post takes over
    when it comes). `max_negativity`/`last_negativity` and `last_customer_message_at` count only
    messages from non-brand authors; `last_brand_message_at` is the last answer by a brand account.
    """

    __tablename__ = "threads"
    __table_args__ = (
        UniqueConstraint("source", "thread_key"),
        CheckConstraint(f"status IN {THREAD_STATUSES!r}", name="status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(String(64))
    thread_key: Mapped[str] = mapped_column(String(255))
    brand: Mapped[str | None] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(16), default="new")
    root_external_id: Mapped[str | None] = mapped_column(String(255))
    lang: Mapped[str | None] = mapped_column(String(16))
    first_message_at: Mapped[datetime | None]
    last_message_at: Mapped[datetime | None]
    last_customer_message_at: Mapped[datetime | None]
    last_brand_message_at: Mapped[datetime | None]
    message_count: Mapped[int] = mapped_column(Integer, default=0)
    max_negativity: Mapped[float] = mapped_column(Float, default=0.0)
    last_negativity: Mapped[float | None] = mapped_column(Float)
    assigned_to: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    updated_at: Mapped[datetime] = mapped_column(default=utc_now, onupdate=utc_now)

    mentions: Mapped[list[Mention]] = relationship(back_populates="thread", lazy="raise_on_sql")


# The queue: one index range scan per status, most negative first, then oldest first.
Index("ix_threads_queue", Thread.status, Thread.max_negativity.desc(), Thread.first_message_at)


class Mention(Base):
    """One scored post, comment, tweet or review, unique by (source, external_id)."""

    __tablename__ = "mentions"
    __table_args__ = (
        UniqueConstraint("source", "external_id"),
        CheckConstraint(f"label IN {LABELS!r}", name="label"),
        Index("ix_mentions_thread_created", "thread_id", "created_at"),
        Index("ix_mentions_created_at", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(String(64))
    external_id: Mapped[str] = mapped_column(String(255))
    thread_id: Mapped[int] = mapped_column(ForeignKey("threads.id", ondelete="CASCADE"))
    thread_key: Mapped[str] = mapped_column(String(255))
    parent_external_id: Mapped[str | None] = mapped_column(String(255))
    author_id: Mapped[int] = mapped_column(ForeignKey("authors.id"), index=True)
    is_brand: Mapped[bool] = mapped_column(Boolean, default=False)
    url: Mapped[str | None] = mapped_column(Text)
    text: Mapped[str] = mapped_column(Text)
    lang: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[datetime]
    collected_at: Mapped[datetime]
    scored_at: Mapped[datetime]
    stored_at: Mapped[datetime] = mapped_column(default=utc_now)
    brand: Mapped[str | None] = mapped_column(String(255))
    rating: Mapped[float | None] = mapped_column(Float)
    likes: Mapped[int] = mapped_column(Integer, default=0)
    reposts: Mapped[int] = mapped_column(Integer, default=0)
    replies: Mapped[int] = mapped_column(Integer, default=0)
    views: Mapped[int] = mapped_column(Integer, default=0)
    label: Mapped[str] = mapped_column(String(16))
    negativity: Mapped[float] = mapped_column(Float)
    prob_negative: Mapped[float] = mapped_column(Float)
    prob_neutral: Mapped[float] = mapped_column(Float)
    prob_positive: Mapped[float] = mapped_column(Float)
    model_version: Mapped[str] = mapped_column(String(128))
    topics: Mapped[list[str]] = mapped_column(JSON, default=list)
    duplicate_of: Mapped[str | None] = mapped_column(String(255))

    thread: Mapped[Thread] = relationship(back_populates="mentions", lazy="raise_on_sql")
    author: Mapped[Author] = relationship(lazy="raise_on_sql")


class CollectorCursor(Base):
    """Where a collector stopped, per (collector, key) - e.g. ("vk", "group:123")."""

    __tablename__ = "collector_cursors"
    __table_args__ = (UniqueConstraint("collector", "key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    collector: Mapped[str] = mapped_column(String(64))
    key: Mapped[str] = mapped_column(String(255))
    value: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(default=utc_now, onupdate=utc_now)


__all__ = [
    "LABELS",
    "THREAD_STATUSES",
    "Author",
    "Base",
    "CollectorCursor",
    "Mention",
    "Thread",
    "UtcDateTime",
]
