"""Low survey scores are read the same business day: a follow-up task for the case's owner and their
team's manager, shown on the queue until one of them marks it done on the thread page.

Low: CSAT 3 or less, or NPS 6 or less (a detractor). Due: the end of the current business day in
the desk's calendar; a score that arrives after hours (or on a day off) is due at the end of the next
business day.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Final

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from core.db.models import Thread
from core.db.models_desk import DeskUser
from core.db.models_surveys import Survey, SurveyFollowUp
from desk.services import audit
from desk.services.auth import Actor, check
from desk.services.calendar_store import load_calendar
from desk.services.clocks import BusinessCalendar

LOW_CSAT: Final = 3
LOW_NPS: Final = 6


def is_low(csat: int | None, nps: int | None) -> bool:
    return (csat is not None and csat <= LOW_CSAT) or (nps is not None and nps <= LOW_NPS)


def end_of_business_day(calendar: BusinessCalendar, at: datetime) -> datetime:
    """The end of `at`'s business day; after hours or on a day off, the end of the next one."""
    local = at.astimezone(calendar.zone)
    day = local.date()
    if calendar.is_business_day(day) and local.time() < calendar.day_end:
        return calendar.at(day, calendar.day_end)
    return calendar.at(calendar.next_business_day(day), calendar.day_end)


def team_manager(session: Session, owner: str | None, team: str | None) -> str | None:
    """The manager of the owner's team (the case's team when the owner has none), first by name."""
    if owner is not None:
        user = session.get(DeskUser, owner)
        team = (user.team if user is not None else None) or team
    if team is None:
        return None
    return session.scalar(
        select(DeskUser.username)
        .where(DeskUser.team == team, DeskUser.role == "manager", DeskUser.active.is_(True))
        .order_by(DeskUser.username)
        .limit(1)
    )


def open_followup(session: Session, survey: Survey, now: datetime) -> SurveyFollowUp | None:
    """The follow-up of a low score (once per survey; None when the score is not low)."""
    if not is_low(survey.csat, survey.nps):
        return None
    existing = session.scalar(select(SurveyFollowUp).where(SurveyFollowUp.survey_id == survey.id))
    if existing is not None:
        return existing
    thread = session.get(Thread, survey.thread_id)
    owner = (thread.assigned_to if thread is not None else None) or survey.agent
    task = SurveyFollowUp(
        survey_id=survey.id,
        thread_id=survey.thread_id,
        owner=owner,
        manager=team_manager(session, owner, survey.team),
        due_at=end_of_business_day(load_calendar(session, survey.brand), now),
        created_at=now,
    )
    session.add(task)
    session.flush()
    audit.record(
        session, "system", "survey_followup", survey.thread_id, at=now, csat=survey.csat, nps=survey.nps
    )
    return task


@dataclass(frozen=True, slots=True)
class FollowUpItem:
    id: int
    thread_id: int
    owner: str | None
    manager: str | None
    due_at: datetime
    overdue: bool
    csat: int | None
    nps: int | None
    brand: str | None
    source: str


def open_followups(session: Session, now: datetime, username: str | None = None) -> list[FollowUpItem]:
    """Follow-ups not done yet, soonest due first; with `username`, those they own or manage."""
    stmt = (
        select(SurveyFollowUp, Survey)
        .join(Survey, Survey.id == SurveyFollowUp.survey_id)
        .where(SurveyFollowUp.done_at.is_(None))
        .order_by(SurveyFollowUp.due_at, SurveyFollowUp.id)
    )
    if username is not None:
        stmt = stmt.where(or_(SurveyFollowUp.owner == username, SurveyFollowUp.manager == username))
    return [
        FollowUpItem(
            id=task.id,
            thread_id=task.thread_id,
            owner=task.owner,
            manager=task.manager,
            due_at=task.due_at,
            overdue=task.due_at < now,
            csat=survey.csat,
            nps=survey.nps,
            brand=survey.brand,
            source=survey.source,
        )
        for task, survey in session.execute(stmt)
    ]


def thread_followups(session: Session, thread_id: int) -> list[SurveyFollowUp]:
    return list(
        session.scalars(
            select(SurveyFollowUp).where(SurveyFollowUp.thread_id == thread_id).order_by(SurveyFollowUp.id)
        )
    )


def mark_done(session: Session, actor: Actor, followup_id: int, now: datetime) -> None:
    """The low score was read and acted on (does not commit)."""
    check(actor, "thread.note")
    task = session.get(SurveyFollowUp, followup_id)
    if task is None:
        raise LookupError(f"no follow-up {followup_id}")
    if task.done_at is not None:
        return
    task.done_at, task.done_by = now, actor.username
    audit.record(session, actor.username, "survey_followup_done", task.thread_id, at=now)
