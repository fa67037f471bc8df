"""The desk's queue: my threads, my team's, unassigned or all, in priority order, with filters.

Priority is `desk_threads.rank_at` (see desk.services.clocks.rank_at): clock urgency, negativity,
author reach and review rating folded into one effective deadline, ties oldest first. It is
indexed, so the first page of the queue is an index range scan at any table size.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Literal

from sqlalchemy import String, and_, cast, func, literal, select
from sqlalchemy.orm import Session, aliased

from core.db.models import Author, Mention, Thread
from core.db.models_desk import DeskThread, DeskUser
from core.db.models_ingest import Reply
from core.db.models_search import ThreadTag
from desk.services.auth import Actor, check

Scope = Literal["mine", "team", "unassigned", "all"]
SCOPES: tuple[Scope, ...] = ("mine", "team", "unassigned", "all")
DEFAULT_STATUSES = ("new", "open")
ACTIVE = frozenset({"new", "open", "waiting"})


@dataclass(frozen=True)
class QueueFilters:
    sources: tuple[str, ...] = ()
    brands: tuple[str, ...] = ()
    langs: tuple[str, ...] = ()
    statuses: tuple[str, ...] = DEFAULT_STATUSES
    min_negativity: float = 0.0
    topic: str | None = None
    owners: tuple[str, ...] = field(default=())
    tags: tuple[str, ...] = ()  # any of them (desk.services.tags)


@dataclass(frozen=True, slots=True)
class WorkItem:
    thread_id: int
    text: str
    source: str
    brand: str | None
    negativity: float
    lang: str | None
    status: str
    owner: str | None
    author: str | None
    reach: int
    rating: float | None
    age: timedelta
    clock: str | None  # which clock is next: first response, update, resolution
    due_at: datetime | None
    time_left: timedelta | None  # negative: overdue
    version: int
    reply_state: str | None = None  # the latest desk reply: "failed", or "pending" until confirmed


def _next_clock(row: object, status: str) -> tuple[str | None, datetime | None]:
    if status in ("resolved", "closed"):
        return None, None
    first_at = getattr(row, "first_response_at", None)
    if first_at is None:
        return "first response", getattr(row, "first_response_due", None)
    options = [
        (due, name)
        for name, due in (
            ("update", getattr(row, "update_due", None)),
            ("resolution", getattr(row, "resolution_due", None)),
        )
        if due is not None
    ]
    if not options:
        return None, None
    due, name = min(options)
    return name, due


def desk_queue(
    session: Session,
    actor: Actor,
    *,
    scope: Scope = "all",
    filters: QueueFilters | None = None,
    now: datetime | None = None,
    limit: int = 200,
) -> list[WorkItem]:
    check(actor, "queue.view")
    filters = filters or QueueFilters()
    now = now or datetime.now(UTC)
    d, t = DeskThread, Thread
    ids = select(d.thread_id).join(t, t.id == d.thread_id).where(d.merged_into.is_(None))
    if filters.statuses:
        # On SQLite, `status || ''` keeps the planner from sorting every thread of a status found
        # through ix_threads_queue: walking ix_desk_threads_rank_at and stopping at `limit` is faster.
        status = t.status + literal("") if session.get_bind().dialect.name == "sqlite" else t.status
        ids = ids.where(status.in_(filters.statuses))
    if scope == "mine":
        ids = ids.where(t.assigned_to == actor.username)
    elif scope == "unassigned":
        ids = ids.where(t.assigned_to.is_(None))
    elif scope == "team":
        members = select(DeskUser.username).where(DeskUser.team == actor.team)
        ids = (
            ids.where((d.team == actor.team) | t.assigned_to.in_(members))
            if actor.team
            else ids.where(literal(False))
        )
    if filters.sources:
        ids = ids.where(t.source.in_(filters.sources))
    if filters.brands:
        ids = ids.where(t.brand.in_(filters.brands))
    if filters.langs:
        ids = ids.where(t.lang.in_(filters.langs))
    if filters.min_negativity > 0:
        ids = ids.where(t.max_negativity >= filters.min_negativity)
    if filters.owners:
        ids = ids.where(t.assigned_to.in_(filters.owners))
    if filters.tags:
        ids = ids.where(t.id.in_(select(ThreadTag.thread_id).where(ThreadTag.tag.in_(filters.tags))))
    if filters.topic:
        topic_root = aliased(Mention, name="topic_root")
        ids = ids.join(
            topic_root, and_(topic_root.source == t.source, topic_root.external_id == t.root_external_id)
        ).where(cast(topic_root.topics, String).like(f'%"{filters.topic}"%'))
    # Active cases always have a rank: order by it alone (an index scan) unless the filter
    # takes in resolved or closed ones, whose rank is NULL and which go last.
    by_rank = d.rank_at.asc().nulls_last()
    if filters.statuses and set(filters.statuses) <= ACTIVE:
        by_rank = d.rank_at.asc()
        ids = ids.where(d.rank_at.is_not(None))  # a range scan that skips the closed cases
    page = ids.order_by(by_rank, t.first_message_at.asc(), t.id.asc()).limit(limit)
    chosen = [thread_id for thread_id in session.scalars(page)]
    if not chosen:
        return []

    root = aliased(Mention, name="root")
    author = aliased(Author, name="root_author")
    stmt = (
        select(
            t.id,
            t.source,
            t.brand,
            t.status,
            t.lang,
            t.max_negativity,
            t.first_message_at,
            t.assigned_to,
            t.thread_key,
            d.reach,
            d.rating,
            d.version,
            d.first_response_at,
            d.first_response_due,
            d.update_due,
            d.resolution_due,
            func.coalesce(root.text, literal("")).label("text"),
            func.coalesce(author.name, author.handle, author.author_id).label("author"),
        )
        .join(d, d.thread_id == t.id)
        .outerjoin(root, and_(root.source == t.source, root.external_id == t.root_external_id))
        .outerjoin(author, author.id == root.author_id)
        .where(t.id.in_(chosen))
    )
    rows = {row.id: row for row in session.execute(stmt)}
    reply_states = _reply_states(session, [(r.id, r.source, r.thread_key) for r in rows.values()])
    items: list[WorkItem] = []
    for thread_id in chosen:
        row = rows[thread_id]
        clock, due = _next_clock(row, row.status)
        first = row.first_message_at or now
        items.append(
            WorkItem(
                thread_id=row.id,
                text=row.text,
                source=row.source,
                brand=row.brand,
                negativity=row.max_negativity,
                lang=row.lang,
                status=row.status,
                owner=row.assigned_to,
                author=row.author,
                reach=row.reach,
                rating=row.rating,
                age=max(now - first, timedelta(0)),
                clock=clock,
                due_at=due,
                time_left=None if due is None else due - now,
                version=row.version,
                reply_state=reply_states.get(row.id),
            )
        )
    return items


def _reply_states(session: Session, threads: list[tuple[int, str, str]]) -> dict[int, str]:
    """Per thread, the state of its latest desk reply when the agent must know: failed (send it
    again) or pending (recorded, not yet confirmed by the network)."""
    by_key = {(source, key): thread_id for thread_id, source, key in threads}
    if not by_key:
        return {}
    latest: dict[int, tuple[datetime, str]] = {}
    stmt = select(Reply.source, Reply.thread_key, Reply.status, Reply.created_at).where(
        Reply.thread_key.in_([key for _, key in by_key])
    )
    for source, key, status, created in session.execute(stmt):
        thread_id = by_key.get((source, key))
        if thread_id is not None and (thread_id not in latest or created > latest[thread_id][0]):
            latest[thread_id] = (created, status)
    states = {"failed": "failed", "queued": "pending", "sending": "pending"}
    return {tid: states[status] for tid, (_, status) in latest.items() if status in states}


def filter_options(session: Session) -> dict[str, list[str]]:
    """Values the filters offer: sources, brands, languages, owners and tags present in the data."""
    t = Thread

    def distinct(column: object) -> list[str]:
        return sorted(str(v) for v in session.scalars(select(column).distinct()) if v)  # type: ignore[call-overload]

    users = sorted(session.scalars(select(DeskUser.username).where(DeskUser.active.is_(True))))
    return {
        "sources": distinct(t.source),
        "brands": distinct(t.brand),
        "langs": distinct(t.lang),
        "owners": users,
        "tags": sorted(session.scalars(select(ThreadTag.tag).distinct())),
    }
