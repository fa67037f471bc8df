"""The desk's sync job: every thread gets a desk row, an owner and running clocks.

`sync_threads(session, now)` is the one hook that guarantees ownership. It is called
- by the worker right after each persisted batch (sentiment.persistence.MentionWriter.save), and
- by the queue page on every refresh (a fallback when the worker's call failed),
and each pass picks up (a) every thread without a desk row, (b) every thread changed since the
last pass (with an overlap) whose messages, status or highest negativity differ from what its desk
row last saw, and (c) every active thread still without an owner, so a thread missed once is caught
by the next pass. A pass reads only those: during a burst, re-reading every thread written in the
overlap on every pass took half of the worker's database time. Passes serialise: a PostgreSQL
advisory lock, or SQLite's write lock taken by the pass's first statement.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import and_, or_, select, text
from sqlalchemy.orm import Session, aliased

from core.db.models import Author, Mention, Thread
from core.db.models_desk import DeskSetting, DeskThread, DeskUser
from desk.services import audit, notices
from desk.services.calendar_store import load_calendars
from desk.services.case_clock import event, mark_answer, pause, refresh_rank, resume, start_cycle
from desk.services.clocks import BusinessCalendar, CalendarBook
from desk.services.reply_outcome import settle_replies
from desk.services.routing import ACTIVE_STATUSES, Router, ThreadFacts
from desk.services.survey_intake import take_answers
from desk.services.survey_links import answer_holds_case, is_survey_question

SYNC_KEY = "sync"
OVERLAP = timedelta(minutes=10)
BATCH = 5000
_LOCK_ID = zlib.crc32(b"mentiondesk.desk-sync")


@dataclass
class SyncStats:
    created: int = 0
    updated: int = 0
    assigned: int = 0
    examined: int = 0
    missed: int = 0
    notices: int = 0


def _begin(session: Session, now: datetime) -> datetime | None:
    """Serialise passes and return the previous pass's time (None on the first pass)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _LOCK_ID})
    else:  # a write first, so SQLite takes the write lock now instead of failing to upgrade later
        session.execute(
            text("UPDATE desk_settings SET updated_at = updated_at WHERE key = :k"), {"k": SYNC_KEY}
        )
    row = session.get(DeskSetting, SYNC_KEY)
    previous = None
    if row is None:
        session.add(DeskSetting(key=SYNC_KEY, value={"at": now.isoformat()}, updated_at=now))
    else:
        previous = datetime.fromisoformat(row.value["at"])
        row.value = {"at": now.isoformat()}
    return previous


def _candidate_ids(session: Session, since: datetime | None) -> list[int]:
    d = DeskThread
    missing = (
        select(Thread.id)
        .outerjoin(d, d.thread_id == Thread.id)
        .where(d.thread_id.is_(None))
        .order_by(Thread.id)
        .limit(BATCH)
    )
    ids = set(session.scalars(missing))
    if since is not None:
        changed = (
            select(Thread.id)
            .join(d, d.thread_id == Thread.id)
            .where(
                Thread.updated_at >= since - OVERLAP,
                or_(
                    Thread.last_message_at.is_distinct_from(d.seen_message_at),
                    Thread.status.is_distinct_from(d.seen_status),
                    Thread.max_negativity.is_distinct_from(d.seen_negativity),
                ),
            )
            .limit(BATCH)
        )
        ids.update(session.scalars(changed))
    if session.scalar(select(DeskUser.username).where(DeskUser.active.is_(True)).limit(1)) is not None:
        # with nobody on the desk no thread can get an owner: they wait for the first user's pass
        unowned = (
            select(Thread.id)
            .join(d, d.thread_id == Thread.id)
            .where(Thread.assigned_to.is_(None), Thread.status.in_(ACTIVE_STATUSES), d.merged_into.is_(None))
            .limit(BATCH)
        )
        ids.update(session.scalars(unowned))
    return sorted(ids)


def _facts(row: Any) -> ThreadFacts:
    authors = {x for x in (row.author_ext_id, row.handle) if x}
    thread: Thread = row.Thread
    return ThreadFacts(
        source=thread.source,
        brand=thread.brand,
        lang=thread.lang,
        topics=frozenset(row.topics or ()),
        text=row.text or "",
        author_ids=frozenset(authors),
    )


def sync_threads(
    session: Session, now: datetime | None = None, notify_before: timedelta = notices.DEFAULT_BEFORE_DUE
) -> SyncStats:
    """One pass (does not commit: the caller commits, so a failed pass changes nothing).

    It also writes the desk's notices: new owners, clocks running out within `notify_before`,
    clocks missed in this pass (desk.services.notices)."""
    now = now or datetime.now(UTC)
    stats = SyncStats()
    since = _begin(session, now)
    take_answers(session, now)  # before the threads: a survey answer does not reopen its case
    ids = _candidate_ids(session, since)
    calendars = load_calendars(session, now.date())
    if ids:
        router = Router.load(session, calendars.desk)
        for chunk_start in range(0, len(ids), 500):
            _process(
                session,
                ids[chunk_start : chunk_start + 500],
                now=now,
                calendars=calendars,
                router=router,
                stats=stats,
            )
    misses: list[notices.Miss] = []
    stats.missed = record_misses(session, now, misses)
    stats.notices += notices.notify_missed(session, misses, now)
    stats.notices += notices.scan_due_soon(session, now, notify_before)
    settle_replies(session, now)  # the fallback when the publisher's own settlement failed
    return stats


def sync_if_stale(
    session: Session,
    now: datetime,
    min_interval: timedelta,
    notify_before: timedelta = notices.DEFAULT_BEFORE_DUE,
) -> SyncStats | None:
    """The desk-side fallback: a pass only when the last one (by anyone) is older than `min_interval`,
    so open browsers do not queue up on the write lock behind the worker."""
    row = session.get(DeskSetting, SYNC_KEY)
    if row is not None and now - datetime.fromisoformat(row.value["at"]) < min_interval:
        session.rollback()
        return None
    session.rollback()  # end the read, so SQLite's first statement of the pass is a write
    return sync_threads(session, now, notify_before)


def _rows(session: Session, ids: list[int]) -> list[Any]:
    root = aliased(Mention, name="root")
    author = aliased(Author, name="root_author")
    stmt = (
        select(
            Thread,
            DeskThread,
            root.text,
            root.topics,
            root.rating,
            author.author_id.label("author_ext_id"),
            author.handle,
            author.followers,
        )
        .outerjoin(DeskThread, DeskThread.thread_id == Thread.id)
        .outerjoin(root, and_(root.source == Thread.source, root.external_id == Thread.root_external_id))
        .outerjoin(author, author.id == root.author_id)
        .where(Thread.id.in_(ids))
        .order_by(Thread.id)
    )
    return list(session.execute(stmt))


def _process(
    session: Session,
    ids: list[int],
    *,
    now: datetime,
    calendars: CalendarBook,
    router: Router,
    stats: SyncStats,
) -> None:
    for row in _rows(session, ids):
        stats.examined += 1
        t: Thread = row.Thread
        d: DeskThread | None = row.DeskThread
        calendar = calendars.for_brand(t.brand)  # every clock of a thread runs on its brand's calendar
        if d is None:
            d = _new_desk_row(session, t, row, now, calendar)
            stats.created += 1
        elif _follow(session, t, d, calendar, now):
            stats.updated += 1
        if t.assigned_to is None and t.status in ACTIVE_STATUSES and d.merged_into is None:
            assignment = router.assign(_facts(row), now)
            if assignment.owner is not None:
                t.assigned_to = assignment.owner
                d.team = assignment.team
                stats.assigned += 1
                audit.record(
                    session,
                    "system",
                    "assign",
                    t.id,
                    at=now,
                    owner=assignment.owner,
                    team=assignment.team,
                    overflow=assignment.overflow,
                )
                stats.notices += notices.notify_assigned(session, t.id, assignment.owner, d.version, now)
        refresh_rank(d, t.status, t.max_negativity)
        d.seen_negativity = t.max_negativity


def _new_desk_row(
    session: Session, t: Thread, row: Any, now: datetime, calendar: BusinessCalendar
) -> DeskThread:
    d = DeskThread(
        thread_id=t.id,
        version=1,
        cycle=1,
        reach=int(row.followers or 0),
        rating=row.rating,
        seen_message_at=t.last_message_at,
        seen_status=t.status,
        first_response_missed=False,
        update_missed=False,
        resolution_missed=False,
        updated_at=now,
    )
    session.add(d)
    start = t.first_message_at or now
    brand_at = t.last_brand_message_at
    customer_at = t.last_customer_message_at
    if brand_at is not None and customer_at is not None and customer_at > brand_at:
        start = customer_at  # answered before the desk saw it, and the customer wrote again
        brand_at = None
    start_cycle(session, d, start, calendar)
    if brand_at is not None and brand_at >= start:
        mark_answer(session, d, brand_at, calendar)
    if t.status == "waiting":
        pause(session, d, brand_at or now)
    return d


def _follow(session: Session, t: Thread, d: DeskThread, calendar: BusinessCalendar, now: datetime) -> bool:
    """Bring the clocks up to what the networks show; returns whether the thread changed."""
    if t.last_message_at == d.seen_message_at and t.status == d.seen_status:
        return False
    answered_at = d.first_response_at or d.last_update_at
    customer_at = t.last_customer_message_at
    brand_at = t.last_brand_message_at
    wrote_again = (
        answered_at is not None
        and customer_at is not None
        and customer_at > answered_at
        and (brand_at is None or customer_at > brand_at)
    )
    if (
        customer_at is not None
        and d.seen_status in ("resolved", "closed")
        and answer_holds_case(session, t.id, customer_at)
    ):
        # a survey answer without a new problem: the case stays as the desk left it (persist
        # reopened it, as it does on every customer message)
        if t.status == "open":
            t.status = d.seen_status
    elif wrote_again and customer_at is not None:
        d.cycle += 1  # the customer wrote again after an answer: a new clock
        start_cycle(session, d, customer_at, calendar)
        if t.status in ("resolved", "closed", "waiting"):
            t.status = "open"
    elif (
        brand_at is not None
        and d.cycle_started_at is not None
        and brand_at >= d.cycle_started_at
        and not is_survey_question(session, t, brand_at)  # the survey question is no answer
    ):
        mark_answer(session, d, brand_at, calendar)
    if t.status == "waiting":
        pause(session, d, brand_at or now)
    elif d.paused_at is not None:
        resume(session, d, now)
    if t.last_message_at != d.seen_message_at:
        d.version += 1
    d.seen_message_at = t.last_message_at
    d.seen_status = t.status
    return True


def record_misses(session: Session, now: datetime, misses: list[notices.Miss] | None = None) -> int:
    """Mark clocks that ran out (not paused, not answered) as missed, once each, with an event;
    each is appended to `misses` (for the escalation notices) when given."""
    misses = misses if misses is not None else []
    d = DeskThread
    rows = session.execute(
        select(d, Thread.status)
        .join(Thread, Thread.id == d.thread_id)
        .where(
            d.paused_at.is_(None),
            d.merged_into.is_(None),
            Thread.status.in_(("new", "open")),
            (
                (d.first_response_at.is_(None) & ~d.first_response_missed & (d.first_response_due < now))
                | (d.first_response_at.is_not(None) & ~d.update_missed & (d.update_due < now))
                | (~d.resolution_missed & (d.resolution_due < now))
            ),
        )
    )
    count = 0
    for desk_row, _status in rows:
        if desk_row.first_response_at is None and not desk_row.first_response_missed:
            if desk_row.first_response_due is not None and desk_row.first_response_due < now:
                desk_row.first_response_missed = True
                event(session, desk_row, "first_response", "missed", desk_row.first_response_due, now)
                misses.append(notices.Miss(desk_row.thread_id, "first_response", desk_row.first_response_due))
                count += 1
        elif desk_row.update_due is not None and desk_row.update_due < now and not desk_row.update_missed:
            desk_row.update_missed = True
            event(session, desk_row, "status_update", "missed", desk_row.update_due, now)
            misses.append(notices.Miss(desk_row.thread_id, "status_update", desk_row.update_due))
            count += 1
        if (
            desk_row.resolution_due is not None
            and desk_row.resolution_due < now
            and not desk_row.resolution_missed
        ):
            desk_row.resolution_missed = True
            event(session, desk_row, "resolution", "missed", desk_row.resolution_due, now)
            misses.append(notices.Miss(desk_row.thread_id, "resolution", desk_row.resolution_due))
            count += 1
    return count
