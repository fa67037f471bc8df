"""Who else has a thread open: a heartbeat row per (thread, user), fresh for `FRESH` seconds."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from core.db.models_desk import ThreadViewer

FRESH = timedelta(seconds=30)


def heartbeat(session: Session, thread_id: int, username: str, now: datetime) -> None:
    row = session.get(ThreadViewer, (thread_id, username))
    if row is None:
        session.add(ThreadViewer(thread_id=thread_id, username=username, seen_at=now))
    else:
        row.seen_at = now


def leave(session: Session, thread_id: int, username: str) -> None:
    session.execute(
        delete(ThreadViewer).where(ThreadViewer.thread_id == thread_id, ThreadViewer.username == username)
    )


def other_viewers(session: Session, thread_id: int, username: str, now: datetime) -> list[str]:
    return list(
        session.scalars(
            select(ThreadViewer.username)
            .where(
                ThreadViewer.thread_id == thread_id,
                ThreadViewer.username != username,
                ThreadViewer.seen_at >= now - FRESH,
            )
            .order_by(ThreadViewer.username)
        )
    )
