"""The work queue: threads waiting for the desk, most negative first, then oldest first."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Select, and_, func, literal, select, union_all
from sqlalchemy.orm import Session, aliased

from desk.store.models import Author, Mention, Thread

DEFAULT_STATUSES: tuple[str, ...] = ("new", "open")


@dataclass(frozen=True, slots=True)
class QueueItem:
    thread_id: int
    thread_key: str
    source: str
    brand: str | None
    text: str
    author: str | None
    lang: str | None
    negativity: float
    message_count: int
    first_message_at: datetime
    age: timedelta
    status: str


def _ranked_ids(status: str, limit: int) -> Select[int]:
    """The first `limit` thread ids of one status in queue order: a range scan of ix_threads_queue."""
    return (
        select(Thread.id)
        .where(Thread.status == status)
        .order_by(Thread.max_negativity.desc(), Thread.first_message_at.asc())
        .limit(limit)
    )


def queue_threads(
    session: Session,
    *,
    limit: int = 200,
    now: datetime | None = None,
    statuses: Sequence[str] = DEFAULT_STATUSES,
) -> list[QueueItem]:
    """Threads in `statuses`, most negative first, then oldest first (at most `limit`).

    Fast at any table size: each status is read as an ordered, limited scan of the
    (status, max_negativity DESC, first_message_at) index, and only those few rows are merged,
    sorted and joined to their root mention and its author.
    """
    if limit <= 0 or not statuses:
        return []
    now = now or datetime.now(UTC)
    ranked = [_ranked_ids(status, limit).subquery() for status in dict.fromkeys(statuses)]
    # SQLite allows no ORDER BY/LIMIT inside a UNION member, hence the extra SELECT around each
    parts = [select(sub.c.id) for sub in ranked]
    candidates = (parts[0] if len(parts) == 1 else union_all(*parts)).subquery("candidates")

    root = aliased(Mention, name="root")
    author = aliased(Author, name="root_author")
    stmt = (
        select(
            Thread.id,
            Thread.thread_key,
            Thread.source,
            Thread.brand,
            Thread.status,
            Thread.lang,
            Thread.max_negativity,
            Thread.message_count,
            Thread.first_message_at,
            func.coalesce(root.text, literal("")).label("text"),
            func.coalesce(author.name, author.handle, author.author_id).label("author"),
        )
        .join(candidates, candidates.c.id == Thread.id)
        .outerjoin(root, and_(root.source == Thread.source, root.external_id == Thread.root_external_id))
        .outerjoin(author, author.id == root.author_id)
        .order_by(Thread.max_negativity.desc(), Thread.first_message_at.asc(), Thread.id.asc())
        .limit(limit)
    )
    items: list[QueueItem] = []
    for row in session.execute(stmt):
        first = row.first_message_at or now
        items.append(
            QueueItem(
                thread_id=row.id,
                thread_key=row.thread_key,
                source=row.source,
                brand=row.brand,
                text=row.text,
                author=row.author,
                lang=row.lang,
                negativity=row.max_negativity,
                message_count=row.message_count,
                first_message_at=first,
                age=max(now - first, timedelta(0)),
                status=row.status,
            )
        )
    return items
