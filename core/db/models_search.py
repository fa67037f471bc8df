"""Tables of the search feature (see the migration of the same name): the tags agents set on
threads, and saved views (a set of queue filters under a name, personal or shared).

The full-text index itself is not here: an FTS5 table on SQLite and an expression index on
PostgreSQL, which SQLAlchemy's metadata cannot describe (see core.db.search_index).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.db.base import Base, utc_now

TAG_MAX_LENGTH = 64
VIEW_NAME_MAX_LENGTH = 64


class ThreadTag(Base):
    """A tag on a thread, stored normalised (lower case, single spaces)."""

    __tablename__ = "thread_tags"
    __table_args__ = (Index("ix_thread_tags_tag", "tag", "thread_id"),)

    thread_id: Mapped[int] = mapped_column(ForeignKey("threads.id", ondelete="CASCADE"), primary_key=True)
    tag: Mapped[str] = mapped_column(String(TAG_MAX_LENGTH), primary_key=True)
    added_by: Mapped[str] = mapped_column(String(64))
    added_at: Mapped[datetime] = mapped_column(default=utc_now)


class SavedView(Base):
    """Queue filters saved under a name: seen by its owner, or by everyone when shared."""

    __tablename__ = "saved_views"
    __table_args__ = (UniqueConstraint("owner", "name", name="uq_saved_views_owner_name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    owner: Mapped[str] = mapped_column(ForeignKey("desk_users.username", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(VIEW_NAME_MAX_LENGTH))
    shared: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    filters: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    updated_at: Mapped[datetime] = mapped_column(default=utc_now, onupdate=utc_now)
