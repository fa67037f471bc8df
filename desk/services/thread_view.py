"""Everything the thread page reads: messages in order, negativity trajectory, author card, desk
replies, notes, compensation, clocks, and the snapshot a reply is checked against."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from core.db.models import Author, Mention, Thread
from core.db.models_desk import Compensation, DeskThread, ThreadNote
from core.db.models_ingest import Reply
from desk.services.clocks import ClockState, clock_states


class ThreadNotFound(LookupError):
    pass


@dataclass(frozen=True, slots=True)
class Message:
    mention_id: int
    external_id: str
    created_at: datetime
    author: str
    is_brand: bool
    text: str
    negativity: float
    label: str
    url: str | None


@dataclass(frozen=True, slots=True)
class AuthorCard:
    name: str
    handle: str | None
    url: str | None
    followers: int | None
    earlier_threads: list[tuple[int, str, str, datetime | None]]  # id, source, status, first message


@dataclass(frozen=True, slots=True)
class ThreadSnapshot:
    """What the composer saw when it opened; a reply is refused when the thread moved since."""

    version: int
    status: str
    message_count: int
    last_message_at: datetime | None
    last_reply_id: str | None


def case_number(thread_id: int) -> str:
    return f"MD-{thread_id:06d}"


def get_thread(session: Session, thread_id: int) -> tuple[Thread, DeskThread | None]:
    thread = session.get(Thread, thread_id)
    if thread is None:
        raise ThreadNotFound(f"no thread {thread_id}")
    return thread, session.get(DeskThread, thread_id)


def messages(session: Session, thread_id: int) -> list[Message]:
    rows = session.execute(
        select(Mention, Author)
        .join(Author, Author.id == Mention.author_id)
        .where(Mention.thread_id == thread_id)
        .order_by(Mention.created_at, Mention.id)
    )
    return [
        Message(
            mention_id=m.id,
            external_id=m.external_id,
            created_at=m.created_at,
            author=a.name or a.handle or a.author_id,
            is_brand=m.is_brand,
            text=m.text,
            negativity=m.negativity,
            label=m.label,
            url=m.url,
        )
        for m, a in rows
    ]


def root_author(session: Session, thread: Thread) -> Author | None:
    return session.scalar(
        select(Author)
        .join(Mention, Mention.author_id == Author.id)
        .where(Mention.source == thread.source, Mention.external_id == thread.root_external_id)
    )


def author_card(session: Session, thread: Thread, limit: int = 20) -> AuthorCard | None:
    author = root_author(session, thread)
    if author is None:
        return None
    root = Mention
    earlier = session.execute(
        select(Thread.id, Thread.source, Thread.status, Thread.first_message_at)
        .join(root, and_(root.source == Thread.source, root.external_id == Thread.root_external_id))
        .where(root.author_id == author.id, Thread.id != thread.id)
        .order_by(Thread.first_message_at.desc())
        .limit(limit)
    )
    return AuthorCard(
        name=author.name or author.handle or author.author_id,
        handle=author.handle,
        url=author.url,
        followers=author.followers,
        earlier_threads=[(r.id, r.source, r.status, r.first_message_at) for r in earlier],
    )


def desk_replies(session: Session, thread: Thread) -> list[Reply]:
    return list(
        session.scalars(
            select(Reply)
            .where(Reply.thread_key == thread.thread_key, Reply.source == thread.source)
            .order_by(Reply.created_at)
        )
    )


def notes(session: Session, thread_id: int) -> list[ThreadNote]:
    return list(
        session.scalars(select(ThreadNote).where(ThreadNote.thread_id == thread_id).order_by(ThreadNote.id))
    )


def compensations(session: Session, thread_id: int) -> list[Compensation]:
    return list(
        session.scalars(
            select(Compensation).where(Compensation.thread_id == thread_id).order_by(Compensation.id)
        )
    )


def snapshot(session: Session, thread_id: int) -> ThreadSnapshot:
    thread, desk = get_thread(session, thread_id)
    last_reply = session.scalar(
        select(Reply.reply_id)
        .where(Reply.thread_key == thread.thread_key, Reply.source == thread.source)
        .order_by(Reply.created_at.desc(), Reply.reply_id.desc())
        .limit(1)
    )
    count = session.scalar(select(func.count()).select_from(Mention).where(Mention.thread_id == thread_id))
    return ThreadSnapshot(
        version=desk.version if desk else 0,
        status=thread.status,
        message_count=int(count or 0),
        last_message_at=thread.last_message_at,
        last_reply_id=last_reply,
    )


def clocks(thread: Thread, desk: DeskThread | None, now: datetime) -> list[ClockState]:
    if desk is None:
        return []
    return clock_states(
        status=thread.status,
        now=now,
        first_response_due=desk.first_response_due,
        first_response_at=desk.first_response_at,
        update_due=desk.update_due,
        resolution_due=desk.resolution_due,
    )


def status_update_overdue(thread: Thread, desk: DeskThread | None, now: datetime) -> bool:
    """The "status update due" reminder: the case is open, answered once, and the update clock ran out."""
    return (
        desk is not None
        and thread.status == "open"
        and desk.first_response_at is not None
        and desk.update_due is not None
        and desk.update_due <= now
    )
