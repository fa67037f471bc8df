"""The clocks of one case, kept on its desk_threads row: start a cycle, answer, pause, resume, rank.

Used by the sync job (messages seen on the networks) and by desk actions (replies, status changes),
so a case's clocks move the same way whoever moves them. Every change leaves clock events.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from core.db.models_desk import ClockEvent, DeskThread
from desk.services.clocks import (
    BusinessCalendar,
    first_response_due,
    rank_at,
    resolution_due,
    status_update_due,
)

QUEUE_STATUSES = ("new", "open")


def event(  # noqa: PLR0917  (an event record, positional like its fields)
    session: Session, d: DeskThread, clock: str, kind: str, due: datetime | None, at: datetime
) -> None:
    session.add(ClockEvent(thread_id=d.thread_id, cycle=d.cycle, clock=clock, event=kind, due_at=due, at=at))


def start_cycle(session: Session, d: DeskThread, at: datetime, calendar: BusinessCalendar) -> None:
    """A new clock: first response and resolution counted from the customer's message at `at`."""
    d.cycle_started_at = at
    d.first_response_due = first_response_due(calendar, at)
    d.first_response_at = None
    d.first_response_missed = False
    d.update_due = None
    d.last_update_at = None
    d.update_missed = False
    d.resolution_due = resolution_due(calendar, at)
    d.resolution_missed = False
    d.paused_at = None
    event(session, d, "first_response", "started", d.first_response_due, at)
    event(session, d, "resolution", "started", d.resolution_due, at)


def mark_answer(session: Session, d: DeskThread, at: datetime, calendar: BusinessCalendar) -> None:
    """The brand answered at `at` (from the desk or its own account): a first response or an update."""
    if d.first_response_at is None:
        d.first_response_at = at
        due = d.first_response_due
        event(session, d, "first_response", "hit" if due is None or at <= due else "missed", due, at)
    elif d.last_update_at is None or at > d.last_update_at:
        due = d.update_due
        if due is not None and not d.update_missed:
            event(session, d, "status_update", "hit" if at <= due else "missed", due, at)
    else:
        return
    d.last_update_at = at
    d.update_due = status_update_due(calendar, at)
    d.update_missed = False


def pause(session: Session, d: DeskThread, at: datetime) -> None:
    if d.paused_at is None:
        d.paused_at = at
        event(session, d, "resolution", "paused", d.resolution_due, at)


def resume(session: Session, d: DeskThread, at: datetime) -> None:
    """Waiting time does not count: the open clocks move on by the time spent paused."""
    if d.paused_at is None:
        return
    paused_for = max(at - d.paused_at, at - at)
    if d.resolution_due is not None:
        d.resolution_due += paused_for
    if d.update_due is not None:
        d.update_due = max(d.update_due + paused_for, at)
    d.paused_at = None
    event(session, d, "resolution", "resumed", d.resolution_due, at)


def next_due(d: DeskThread) -> datetime | None:
    if d.first_response_at is None:
        return d.first_response_due
    dues = [x for x in (d.update_due, d.resolution_due) if x is not None]
    return min(dues) if dues else None


def refresh_rank(d: DeskThread, status: str, negativity: float) -> None:
    d.rank_at = (
        rank_at(next_due(d), negativity, d.reach, d.rating)
        if status in ("new", "open", "waiting") and d.merged_into is None
        else None
    )
