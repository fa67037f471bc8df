"""Which replies and messages belong to a satisfaction survey, for the parts of the desk that must
leave them out: a survey question is not the agent's answer (clocks, first response, first-contact
resolution), and an answer that carries no new problem is not a new contact (reopening, KPIs).
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from core.db.models import Mention, Thread
from core.db.models_ingest import Reply as ReplyRow
from core.db.models_surveys import Survey


def is_survey_reply(session: Session, reply_id: str) -> bool:
    """Whether the desk reply `reply_id` is a survey's question."""
    return session.scalar(select(Survey.id).where(Survey.reply_id == reply_id).limit(1)) is not None


def is_survey_question(session: Session, thread: Thread, brand_at: datetime) -> bool:
    """Whether the brand's message at `brand_at` in `thread` is a survey question the publisher posted
    (the collectors bring it back as a brand-account message)."""
    found = session.scalar(
        select(Survey.id)
        .join(ReplyRow, ReplyRow.reply_id == Survey.reply_id)
        .join(
            Mention,
            and_(Mention.source == ReplyRow.source, Mention.external_id == ReplyRow.external_id),
        )
        .where(Survey.thread_id == thread.id, Mention.thread_id == thread.id, Mention.created_at == brand_at)
        .limit(1)
    )
    return found is not None


def answer_holds_case(session: Session, thread_id: int, customer_at: datetime) -> bool:
    """Whether the customer's message at `customer_at` is a survey answer that does not reopen the
    case (no new problem in it)."""
    found = session.scalar(
        select(Survey.id)
        .where(
            Survey.thread_id == thread_id,
            Survey.answered_at == customer_at,
            Survey.answer_mention_id.is_not(None),
            Survey.reopens.is_(False),
        )
        .limit(1)
    )
    return found is not None


def survey_mention_ids(session: Session, thread_ids: Collection[int]) -> set[int]:
    """Mention ids in these threads that the KPIs leave out: survey questions brought back by the
    collectors, and survey answers that did not reopen the case."""
    if not thread_ids:
        return set()
    ids = list(thread_ids)
    questions = session.scalars(
        select(Mention.id)
        .join(ReplyRow, and_(ReplyRow.source == Mention.source, ReplyRow.external_id == Mention.external_id))
        .join(Survey, Survey.reply_id == ReplyRow.reply_id)
        .where(Mention.thread_id.in_(ids), Survey.thread_id == Mention.thread_id)
    )
    answers = session.scalars(
        select(Survey.answer_mention_id).where(
            Survey.thread_id.in_(ids), Survey.answer_mention_id.is_not(None), Survey.reopens.is_(False)
        )
    )
    return {int(i) for i in questions} | {int(i) for i in answers if i is not None}
