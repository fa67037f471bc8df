"""The replies' transactional outbox: rows written with the reply, published by the relay, removed
with the reply's final result. Every function works inside the caller's session and never commits.

A row is *due* when its `due_at` passed: a new reply at once, a published one again after the
redelivery interval unless the publisher answered first (a broker restart loses what it held, and
the embedded broker keeps nothing), a rate-limited one after its wait. Publishing twice is safe: the
publisher keys on `reply_id` and answers a reply it already finished with the stored result.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from core.db.models_ingest import ReplyOutbox
from schemas import Reply

DUE_BATCH = 100


def enqueue(session: Session, reply: Reply, now: datetime) -> None:
    """The reply's way out, in the transaction that records it; a known reply keeps its row."""
    if session.get(ReplyOutbox, str(reply.reply_id)) is None:
        session.add(
            ReplyOutbox(
                reply_id=str(reply.reply_id),
                payload=reply.model_dump_json(),
                due_at=now,
                published_count=0,
                created_at=now,
            )
        )


def due(session: Session, now: datetime, limit: int = DUE_BATCH) -> list[ReplyOutbox]:
    """Rows to publish now, oldest first; on PostgreSQL rows another relay holds are skipped."""
    stmt = (
        select(ReplyOutbox)
        .where(ReplyOutbox.due_at <= now)
        .order_by(ReplyOutbox.due_at, ReplyOutbox.created_at)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True)
    return list(session.scalars(stmt))


def mark_published(session: Session, reply_id: str, now: datetime, next_due: datetime) -> None:
    """The broker acknowledged the message; publish again at `next_due` if still unanswered."""
    session.execute(
        update(ReplyOutbox)
        .where(ReplyOutbox.reply_id == reply_id)
        .values(
            published_at=now,
            published_count=ReplyOutbox.published_count + 1,
            due_at=next_due,
            last_error=None,
        )
    )


def postpone(session: Session, reply_id: str, until: datetime, error: str | None = None) -> None:
    """Not before `until` (a failed hand-over, or the network asked us to wait)."""
    values: dict[str, object] = {"due_at": until}
    if error is not None:
        values["last_error"] = error[:2000]
    session.execute(update(ReplyOutbox).where(ReplyOutbox.reply_id == reply_id).values(**values))


def remove(session: Session, reply_id: str) -> None:
    """The publisher wrote the reply's final result: nothing more to send."""
    session.execute(delete(ReplyOutbox).where(ReplyOutbox.reply_id == reply_id))


def pending(session: Session) -> int:
    """Replies recorded and not yet answered by the publisher (shown on the desk, used in tests)."""
    from sqlalchemy import func

    return int(session.scalar(select(func.count()).select_from(ReplyOutbox)) or 0)
