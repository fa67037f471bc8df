"""Reading the customer's answer to a survey, in the desk's sync pass (after every persisted batch).

The answer is the asked author's first message in the thread after the question, within the answer
window (`expires_at`), once the question reached the network (its reply is sent, or manual).
`survey_answers.read_answer` reads it: a score is stored (`read_by='parser'`); an answer it cannot
read is `unreadable` and waits for an agent to score it by hand on the thread page
(`score_by_hand`, `read_by='agent'`): never guessed. A low score opens a follow-up task.

Reopening: the persist step reopens a resolved case on any new customer message; the sync pass then
keeps a survey answer's case resolved unless `survey_answers.carries_new_problem(reading,
negative)` says the answer also carries a new problem (the parser's complaint cues and the model's
negativity label of that message decide together). The decision is stored (`surveys.reopens`) and
applied by desk.services.sync through desk.services.survey_links.answer_holds_case.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import cast

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.db.models import Mention
from core.db.models_ingest import Reply as ReplyRow
from core.db.models_surveys import Survey
from desk.services import audit, survey_answers
from desk.services.auth import Actor, check
from desk.services.survey_followups import open_followup

DELIVERED = ("sent", "manual")
BATCH = 500


@dataclass
class IntakeStats:
    answered: int = 0
    unreadable: int = 0
    expired: int = 0


def _answer(session: Session, survey: Survey) -> Mention | None:
    if survey.author_ref is None:
        return None
    return session.scalar(
        select(Mention)
        .where(
            Mention.thread_id == survey.thread_id,
            Mention.is_brand.is_(False),
            Mention.author_id == survey.author_ref,
            Mention.created_at > survey.asked_at,
            Mention.created_at <= survey.expires_at,
        )
        .order_by(Mention.created_at, Mention.id)
        .limit(1)
    )


def take_answers(session: Session, now: datetime) -> IntakeStats:
    """Read the answers that arrived, expire surveys past their window (caller's transaction)."""
    stats = IntakeStats()
    waiting = session.execute(
        select(Survey, ReplyRow.status)
        .outerjoin(ReplyRow, ReplyRow.reply_id == Survey.reply_id)
        .where(Survey.status == "asked")
        .order_by(Survey.id)
        .limit(BATCH)
    ).all()
    for survey, reply_status in waiting:
        mention = _answer(session, survey) if reply_status in DELIVERED else None
        if mention is not None:
            read(session, survey, mention, now)
            if survey.status == "answered":
                stats.answered += 1
            else:
                stats.unreadable += 1
        elif survey.expires_at < now:
            survey.status = "expired"
            survey.updated_at = now
            stats.expired += 1
    return stats


def read(session: Session, survey: Survey, mention: Mention, now: datetime) -> None:
    """Store `mention` as the survey's answer, read by the parser."""
    kind = cast(survey_answers.SurveyKind, survey.kind)
    reading = survey_answers.read_answer(mention.text, kind)
    survey.answer_mention_id = mention.id
    survey.answered_at = mention.created_at
    survey.reopens = bool(survey_answers.carries_new_problem(reading, mention.label == "negative"))
    survey.updated_at = now
    if reading.readable:
        survey.csat = reading.csat if kind in ("csat", "both") else None
        survey.nps = reading.nps if kind in ("nps", "both") else None
        survey.read_by = "parser"
        survey.status = "answered"
        session.flush()
        open_followup(session, survey, now)
    else:
        survey.status = "unreadable"
    audit.record(
        session,
        "system",
        "survey_answer",
        survey.thread_id,
        at=now,
        status=survey.status,
        csat=survey.csat,
        nps=survey.nps,
        reopens=survey.reopens,
    )


def score_by_hand(
    session: Session, actor: Actor, survey_id: int, *, csat: int | None, nps: int | None, now: datetime
) -> Survey:
    """An agent's reading of an answer the parser could not read (does not commit)."""
    check(actor, "thread.reply")
    survey = session.get(Survey, survey_id)
    if survey is None:
        raise LookupError(f"no survey {survey_id}")
    if survey.status != "unreadable":
        raise ValueError("only an answer the parser could not read is scored by hand")
    if csat is not None and not 1 <= csat <= 5:
        raise ValueError("CSAT is 1 to 5")
    if nps is not None and not 0 <= nps <= 10:
        raise ValueError("NPS is 0 to 10")
    if survey.kind in ("csat", "nps") and (csat if survey.kind == "csat" else nps) is None:
        raise ValueError(f"this survey asked for {survey.kind.upper()}: give that score")
    if survey.kind == "both" and csat is None and nps is None:
        raise ValueError("give at least one score")
    survey.csat = csat if survey.kind in ("csat", "both") else None
    survey.nps = nps if survey.kind in ("nps", "both") else None
    survey.read_by = "agent"
    survey.scored_by = actor.username
    survey.status = "answered"
    survey.updated_at = now
    session.flush()
    open_followup(session, survey, now)
    audit.record(
        session, actor.username, "survey_scored", survey.thread_id, at=now, csat=survey.csat, nps=survey.nps
    )
    return survey


def to_score(session: Session, limit: int = 100) -> list[Survey]:
    """Answers waiting for an agent's score, oldest first (for the queue page)."""
    return list(
        session.scalars(
            select(Survey).where(Survey.status == "unreadable").order_by(Survey.answered_at).limit(limit)
        )
    )
