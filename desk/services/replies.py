"""Sending a reply: check the thread did not move since the composer opened, then record the reply
and its outbox row in one transaction (`queue_reply`). The reply is handed to Kafka
(`replies.outbound.v1`) right away when the broker answers, and by the outbox relay otherwise or
again; the publisher posts it and writes sent / failed / manual into the reply's row, where the
thread view reads it. The case's clocks move when the network confirmed the reply
(desk.services.reply_outcome), not here; a failed reply can be sent again (`retry_reply`).

Two agents on one thread: the first reply bumps the thread's version in a conditional UPDATE; the
second, composed on the old version, is refused with what changed.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from core.db import outbox
from core.db.models import Mention, Thread
from core.db.models_desk import DeskThread
from core.db.models_ingest import Reply as ReplyRow
from core.db.repository_ingest import queue_reply
from core.i18n import _, format_number, format_time
from desk.services import audit
from desk.services.auth import Actor, check
from desk.services.labels import thread_status
from desk.services.thread_view import ThreadSnapshot, get_thread, snapshot
from schemas import Reply
from schemas.reply import REPLY_MAX_LEN

Publish = Callable[[Reply], None]
REDELIVER_AFTER = timedelta(seconds=60)
"""Default of the setting `reply_redeliver_s`: a handed-over reply unanswered this long goes again."""


class StaleThread(RuntimeError):
    """The thread changed since the composer opened; `changes` says how."""

    def __init__(self, changes: list[str]) -> None:
        super().__init__(
            _("the thread changed since you opened the composer: {changes}").format(
                changes="; ".join(changes)
            )
        )
        self.changes = changes


def describe_changes(
    session: Session, thread_id: int, opened: ThreadSnapshot, now: ThreadSnapshot
) -> list[str]:
    """What happened on the thread between two snapshots, in words an agent reads."""
    thread, _desk_row = get_thread(session, thread_id)
    changes: list[str] = []
    if now.message_count != opened.message_count:
        new = list(
            session.scalars(
                select(Mention)
                .where(Mention.thread_id == thread_id)
                .order_by(Mention.created_at.desc(), Mention.id.desc())
                .limit(max(now.message_count - opened.message_count, 0))
            )
        )
        for m in reversed(new):
            who = _("brand") if m.is_brand else _("customer")
            changes.append(_("new message ({who}): {text}").format(who=who, text=m.text[:200]))
    if now.last_reply_id != opened.last_reply_id:
        stmt = select(ReplyRow).where(
            ReplyRow.thread_key == thread.thread_key, ReplyRow.source == thread.source
        )
        if opened.last_reply_id is not None:
            since = session.get(ReplyRow, opened.last_reply_id)
            if since is not None:
                stmt = stmt.where(ReplyRow.created_at > since.created_at)
        for reply in session.scalars(stmt.order_by(ReplyRow.created_at)):
            changes.append(
                _("{agent} replied at {time}: {text}").format(
                    agent=reply.agent, time=format_time(reply.created_at, UTC), text=reply.text[:200]
                )
            )
    if now.status != opened.status:
        changes.append(
            _("status changed: {before} → {after}").format(
                before=thread_status(opened.status), after=thread_status(now.status)
            )
        )
    if not changes and now.version != opened.version:
        changes.append(_("someone changed the case (assignment, status or merge)"))
    return changes


def _in_reply_to(session: Session, thread_id: int, root: str | None) -> str:
    latest = session.scalar(
        select(Mention.external_id)
        .where(Mention.thread_id == thread_id, Mention.is_brand.is_(False))
        .order_by(Mention.created_at.desc(), Mention.id.desc())
        .limit(1)
    )
    target = latest or root
    if target is None:
        raise ValueError(_("the thread has no message to answer"))
    return target


def send_reply(
    session: Session,
    actor: Actor,
    thread_id: int,
    text: str,
    opened: ThreadSnapshot,
    *,
    now: datetime | None = None,
) -> Reply:
    """Record the reply (queued, with its outbox row) and take the case; commits. Raises StaleThread
    (nothing saved). The case moves to waiting once the network confirmed the reply."""
    check(actor, "thread.reply")
    text = text.strip()
    if not text:
        raise ValueError(_("an empty reply cannot be sent"))
    if len(text) > REPLY_MAX_LEN:
        raise ValueError(
            _("a reply can have at most {limit} characters; this one has {length}").format(
                limit=format_number(REPLY_MAX_LEN), length=format_number(len(text))
            )
        )
    now = now or datetime.now(UTC)
    current = snapshot(session, thread_id)
    if current != opened:
        changes = describe_changes(session, thread_id, opened, current)
        session.rollback()
        raise StaleThread(changes)
    thread, desk = get_thread(session, thread_id)
    bumped = session.execute(
        update(DeskThread)
        .where(DeskThread.thread_id == thread_id, DeskThread.version == opened.version)
        .values(version=DeskThread.version + 1)
    )
    if desk is None or bumped.rowcount != 1:  # type: ignore[attr-defined]
        session.rollback()
        after = snapshot(session, thread_id)
        raise StaleThread(describe_changes(session, thread_id, opened, after))
    session.refresh(desk)
    reply = Reply(
        reply_id=uuid.uuid4(),
        thread_key=thread.thread_key,
        in_reply_to=_in_reply_to(session, thread_id, thread.root_external_id),
        source=thread.source,
        text=text,
        agent=actor.username,
        created_at=now,
    )
    queue_reply(session, reply)
    if thread.assigned_to is None:
        thread.assigned_to = actor.username
    audit.record(session, actor.username, "reply", thread_id, at=now, reply_id=str(reply.reply_id))
    session.commit()
    return reply


def dispatch(
    session: Session, reply: Reply, publish: Publish, *, redeliver_after: timedelta = REDELIVER_AFTER
) -> bool:
    """Hand a recorded reply to Kafka now (the fast way). When the broker does not answer, the reply
    stays queued in the outbox and the relay hands it over later: nothing is lost, False is returned
    so the desk can say so."""
    now = datetime.now(UTC)
    try:
        publish(reply)
    except Exception as exc:
        outbox.postpone(session, str(reply.reply_id), now, f"could not hand the reply over: {exc}")
        session.commit()
        return False
    outbox.mark_published(session, str(reply.reply_id), now, now + redeliver_after)
    session.commit()
    return True


def retry_reply(session: Session, actor: Actor, reply_id: str, *, now: datetime | None = None) -> Reply:
    """Send a failed reply again (same id, so the network is asked first whether it arrived); commits."""
    check(actor, "thread.reply")
    now = now or datetime.now(UTC)
    row = session.get(ReplyRow, reply_id)
    if row is None or row.status != "failed":
        raise ValueError(_("only a failed reply can be sent again"))
    thread = session.scalar(
        select(Thread).where(Thread.source == row.source, Thread.thread_key == row.thread_key)
    )
    row.status, row.error, row.attempts = "queued", None, 0
    row.settled_at, row.confirmed_at = None, None
    reply = Reply(
        reply_id=uuid.UUID(row.reply_id),
        thread_key=row.thread_key,
        in_reply_to=row.in_reply_to,
        source=row.source,
        text=row.text,
        agent=row.agent,
        created_at=row.created_at,
    )
    outbox.enqueue(session, reply, now)
    audit.record(
        session, actor.username, "reply_retry", thread.id if thread else None, at=now, reply_id=reply_id
    )
    session.commit()
    return reply
