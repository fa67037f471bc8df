"""A reply's outcome reaches its case once: confirmed replies move the clocks, failed ones put the
case back in the queue.

A reply counts toward the clocks and KPIs when the network confirmed it (`replies.confirmed_at`),
not when the agent pressed Send: a reply lost in a broker restart or refused by the network must
not show as a timely answer the customer never got. `settle_replies` applies every final result
not yet applied (`replies.settled_at` is NULL). It is called by the publisher in the transaction
that writes the result (the `publisher` command injects it) and by every sync pass (a fallback when
that call failed). A conditional UPDATE claims each reply, so two callers never apply one twice.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from core.db.models import Thread
from core.db.models_desk import DeskThread
from core.db.models_ingest import Reply as ReplyRow
from desk.services import audit
from desk.services.calendar_store import load_calendars
from desk.services.case_clock import mark_answer, pause, refresh_rank, resume
from desk.services.clocks import CalendarBook
from desk.services.survey_links import is_survey_reply
from schemas import ReplyResult

log = logging.getLogger(__name__)

SETTLED_STATUSES = ("sent", "manual", "failed")
BATCH = 500


@dataclass
class SettleStats:
    confirmed: int = 0
    failed: int = 0


def settle_replies(
    session: Session, now: datetime | None = None, reply_ids: Sequence[str] | None = None
) -> SettleStats:
    """Apply final reply results to their cases (in the caller's transaction; does not commit)."""
    now = now or datetime.now(UTC)
    stmt = select(ReplyRow).where(ReplyRow.settled_at.is_(None), ReplyRow.status.in_(SETTLED_STATUSES))
    if reply_ids is not None:
        stmt = stmt.where(ReplyRow.reply_id.in_(list(reply_ids)))
    stats = SettleStats()
    calendars = load_calendars(session, now.date())
    for reply in list(session.scalars(stmt.order_by(ReplyRow.created_at).limit(BATCH))):
        try:
            with session.begin_nested():  # one reply that cannot be settled holds up no other
                outcome = _settle_one(session, reply, now, calendars)
        except SQLAlchemyError:
            log.exception(
                "reply %s: could not apply its result to the case; the next pass retries", reply.reply_id
            )
            continue
        if outcome == "confirmed":
            stats.confirmed += 1
        elif outcome == "failed":
            stats.failed += 1
    return stats


def _settle_one(session: Session, reply: ReplyRow, now: datetime, calendars: CalendarBook) -> str | None:
    """Claim one reply and apply it; returns what it was (None: someone else had it, or no case)."""
    if not _claim(session, reply, now):
        return None
    found = session.execute(
        select(Thread, DeskThread)
        .join(DeskThread, DeskThread.thread_id == Thread.id)
        .where(Thread.source == reply.source, Thread.thread_key == reply.thread_key)
    ).first()
    if found is None:
        return None
    thread, desk = found
    if is_survey_reply(session, reply.reply_id):
        # a survey question is not the agent's answer: no clock moves, the case keeps its status
        audit.record(session, "system", f"survey_{reply.status}", thread.id, at=now, reply_id=reply.reply_id)
        return None
    if reply.status == "failed":
        _failed(session, reply, thread, desk, now)
        outcome = "failed"
    else:
        at = reply.confirmed_at or now
        mark_answer(session, desk, at, calendars.for_brand(thread.brand))
        if thread.status in ("new", "open"):
            _set_status(session, thread, desk, "waiting", at)
            pause(session, desk, at)
        audit.record(session, "system", "reply_confirmed", thread.id, at=at, reply_id=reply.reply_id)
        outcome = "confirmed"
    refresh_rank(desk, thread.status, thread.max_negativity)
    return outcome


def settle_result(session: Session, result: ReplyResult) -> None:
    """The publisher's hook: settle the reply whose result was just written."""
    settle_replies(session, reply_ids=[str(result.reply_id)])


def _claim(session: Session, reply: ReplyRow, now: datetime) -> bool:
    claimed = session.execute(
        update(ReplyRow)
        .where(ReplyRow.reply_id == reply.reply_id, ReplyRow.settled_at.is_(None))
        .values(settled_at=now)
        .execution_options(synchronize_session=False)
    )
    return bool(claimed.rowcount == 1)  # type: ignore[attr-defined]


def _failed(session: Session, reply: ReplyRow, thread: Thread, desk: DeskThread, now: datetime) -> None:
    """The customer did not get it: the case goes back to the queue, its clocks running."""
    audit.record(
        session, "system", "reply_failed", thread.id, at=now, reply_id=reply.reply_id, error=reply.error
    )
    if thread.status == "waiting":
        _set_status(session, thread, desk, "open", now)
        resume(session, desk, now)


def _set_status(session: Session, thread: Thread, desk: DeskThread, status: str, at: datetime) -> None:
    previous = thread.status
    thread.status = status
    desk.seen_status = status
    desk.version += 1  # an open composer sees the change
    audit.record(session, "system", "status", thread.id, at=at, old=previous, new=status)
