"""Tables of the surveys feature (see the migration of the same name): surveys asked after a case
was resolved, with their answers; follow-up tasks of low scores; authors who asked not to be asked.

A survey is unique by (thread, cycle): a case is asked at most once per resolution, whoever resolves
it and however often. Its question is an ordinary desk reply (`reply_id`), so it leaves through the
outbox and the publisher with their guarantees; the desk's clocks and KPIs leave such replies out.
"""

from __future__ import annotations

from datetime import datetime
from typing import Final

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from core.db.base import Base, utc_now

SURVEY_KINDS: Final = ("csat", "nps", "both")
SURVEY_STATUSES: Final = ("asked", "answered", "unreadable", "expired")
SURVEY_READERS: Final = ("parser", "agent")


class Survey(Base):
    """One survey question posted in a thread, and what the customer answered.

    `author` is the network's id of the customer asked (authors.author_id), `author_ref` their row;
    `agent` and `team` are the case's owner and team when it was resolved. `answer_mention_id` is the
    customer's message read as the answer; `reopens` says whether it also carried a new problem (then
    it reopened the case as any customer message does).
    """

    __tablename__ = "surveys"
    __table_args__ = (
        UniqueConstraint("thread_id", "cycle"),
        CheckConstraint(f"kind IN {SURVEY_KINDS!r}", name="kind"),
        CheckConstraint(f"status IN {SURVEY_STATUSES!r}", name="status"),
        CheckConstraint(f"read_by IN {SURVEY_READERS!r}", name="read_by"),
        CheckConstraint("csat BETWEEN 1 AND 5", name="csat"),
        CheckConstraint("nps BETWEEN 0 AND 10", name="nps"),
        Index("ix_surveys_author", "source", "author", "asked_at"),
        Index("ix_surveys_status", "status"),
        Index("ix_surveys_asked_at", "asked_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    thread_id: Mapped[int] = mapped_column(ForeignKey("threads.id", ondelete="CASCADE"))
    cycle: Mapped[int] = mapped_column(Integer)
    brand: Mapped[str | None] = mapped_column(String(255))
    source: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(8))
    lang: Mapped[str] = mapped_column(String(16))
    author: Mapped[str] = mapped_column(String(255))
    author_ref: Mapped[int | None] = mapped_column(ForeignKey("authors.id", ondelete="SET NULL"))
    agent: Mapped[str | None] = mapped_column(String(64))
    team: Mapped[str | None] = mapped_column(String(64))
    reply_id: Mapped[str | None] = mapped_column(
        ForeignKey("replies.reply_id", ondelete="SET NULL"), unique=True
    )
    asked_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    answered_at: Mapped[datetime | None]
    csat: Mapped[int | None] = mapped_column(Integer)
    nps: Mapped[int | None] = mapped_column(Integer)
    answer_mention_id: Mapped[int | None] = mapped_column(ForeignKey("mentions.id", ondelete="SET NULL"))
    read_by: Mapped[str | None] = mapped_column(String(8))
    scored_by: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default="asked")
    reopens: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime] = mapped_column(default=utc_now, onupdate=utc_now)


class SurveyFollowUp(Base):
    """A low score to read and act on the same business day: for the case's owner and their manager."""

    __tablename__ = "survey_followups"
    __table_args__ = (Index("ix_survey_followups_open", "done_at", "due_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("surveys.id", ondelete="CASCADE"), unique=True)
    thread_id: Mapped[int] = mapped_column(ForeignKey("threads.id", ondelete="CASCADE"), index=True)
    owner: Mapped[str | None] = mapped_column(String(64))
    manager: Mapped[str | None] = mapped_column(String(64))
    due_at: Mapped[datetime]
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    done_at: Mapped[datetime | None]
    done_by: Mapped[str | None] = mapped_column(String(64))


class SurveyOptOut(Base):
    """An author who is not to be asked again (set by an agent on the thread page)."""

    __tablename__ = "survey_opt_outs"

    source: Mapped[str] = mapped_column(String(64), primary_key=True)
    author: Mapped[str] = mapped_column(String(255), primary_key=True)
    set_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utc_now)


__all__ = [
    "SURVEY_KINDS",
    "SURVEY_READERS",
    "SURVEY_STATUSES",
    "Survey",
    "SurveyFollowUp",
    "SurveyOptOut",
]
