"""Tables of the notices feature (see the migration of the same name).

- `desk_notices`: one row per thing a desk user is told (a new assignment, a clock about to run
  out, a missed deadline), unique by `key` so a sync pass run twice, or by two processes, tells it
  once; read in the desk (unread = `read_at` NULL) and delivered by Telegram or e-mail once.
- `desk_user_prefs`: per user, where else to be told (e-mail, Telegram chat) and whether they are
  away (routing gives away agents no new threads).
"""

from __future__ import annotations

from datetime import datetime
from typing import Final

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from core.db.base import Base, utc_now
from core.db.models_desk import DeskThread

NOTICE_KINDS: Final = ("assigned", "due_soon", "missed")


class DeskNotice(Base):
    __tablename__ = "desk_notices"
    __table_args__ = (
        CheckConstraint(f"kind IN {NOTICE_KINDS!r}", name="kind"),
        Index("ix_desk_notices_user_read", "username", "read_at"),
        Index("ix_desk_notices_pending", "delivered_at", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # what makes it one notice: kind, thread, clock, due time (or assignment version) and recipient
    key: Mapped[str] = mapped_column(String(200), unique=True)
    username: Mapped[str] = mapped_column(ForeignKey("desk_users.username", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    thread_id: Mapped[int] = mapped_column(ForeignKey("threads.id", ondelete="CASCADE"), index=True)
    clock: Mapped[str | None] = mapped_column(String(16))
    due_at: Mapped[datetime | None]
    # the agent the notice is about when it is not the recipient (a manager told of a miss)
    about: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    read_at: Mapped[datetime | None]
    # Telegram / e-mail: claimed (set) before sending, so two processes never send one twice
    delivered_at: Mapped[datetime | None]
    telegram_status: Mapped[str | None] = mapped_column(String(255))
    email_status: Mapped[str | None] = mapped_column(String(255))


class DeskUserPrefs(Base):
    __tablename__ = "desk_user_prefs"

    username: Mapped[str] = mapped_column(
        ForeignKey("desk_users.username", ondelete="CASCADE"), primary_key=True
    )
    email: Mapped[str | None] = mapped_column(String(255))
    telegram_chat_id: Mapped[str | None] = mapped_column(String(64))
    away: Mapped[bool] = mapped_column(Boolean, default=False)
    away_since: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=utc_now, onupdate=utc_now)


# The sync pass looks for clocks about to run out: three index range scans on the due times.
Index("ix_desk_threads_first_response_due", DeskThread.first_response_due)
Index("ix_desk_threads_update_due", DeskThread.update_due)
Index("ix_desk_threads_resolution_due", DeskThread.resolution_due)

__all__ = ["NOTICE_KINDS", "DeskNotice", "DeskUserPrefs"]
