"""Database functions of the ingest side: cursors by collector, collector health, replies.

Like core.db.repository, every function works inside the caller's session and never commits.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Table, func, select, update
from sqlalchemy.orm import Session

from core.db import outbox
from core.db.models import CollectorCursor
from core.db.models_ingest import CollectorHealth, CollectorHourly, Reply
from core.db.repository import _insert, set_cursor
from schemas import Reply as ReplyMessage
from schemas import ReplyResult

_CURSORS: Table = CollectorCursor.__table__  # type: ignore[assignment]
_HEALTH: Table = CollectorHealth.__table__  # type: ignore[assignment]
_HOURLY: Table = CollectorHourly.__table__  # type: ignore[assignment]
_REPLIES: Table = Reply.__table__  # type: ignore[assignment]

FINAL_REPLY_STATUSES = ("sent", "failed", "manual")


# ---------------------------------------------------------------- cursors


def load_cursors(session: Session, collector: str) -> dict[str, str]:
    """Every saved cursor of `collector`, key -> value."""
    rows = session.execute(select(_CURSORS.c.key, _CURSORS.c.value).where(_CURSORS.c.collector == collector))
    return {key: value for key, value in rows}


def save_cursors(session: Session, collector: str, cursors: Sequence[tuple[str, str]]) -> None:
    for key, value in cursors:
        set_cursor(session, collector, key, value)


# ---------------------------------------------------------------- collector health


def upsert_health(session: Session, collector: str, **values: Any) -> None:
    """Create the collector's row or update the given columns."""
    values = {**values, "updated_at": datetime.now(UTC)}
    insert_values = {"state": "ok", "mentions_total": 0, "poll_interval_s": 60.0, **values}
    stmt = _insert(session, _HEALTH).values(collector=collector, **insert_values)
    stmt = stmt.on_conflict_do_update(
        index_elements=["collector"], set_={k: stmt.excluded[k] for k in values}
    )
    session.execute(stmt)


def add_delivered(session: Session, collector: str, count: int, now: datetime) -> None:
    """Count `count` delivered mentions into the collector's total and its current hour."""
    if count <= 0:
        return
    session.execute(
        update(_HEALTH)
        .where(_HEALTH.c.collector == collector)
        .values(mentions_total=_HEALTH.c.mentions_total + count)
    )
    hour = now.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    stmt = _insert(session, _HOURLY).values(collector=collector, hour=hour, count=count)
    stmt = stmt.on_conflict_do_update(
        index_elements=["collector", "hour"], set_={"count": _HOURLY.c.count + stmt.excluded["count"]}
    )
    session.execute(stmt)


def health_rows(session: Session) -> list[CollectorHealth]:
    return list(session.scalars(select(CollectorHealth).order_by(CollectorHealth.collector)))


def mentions_last_hour(session: Session, now: datetime) -> dict[str, int]:
    """Mentions per collector delivered in the current and the previous clock hour, scaled to one
    hour by the part of the previous hour that is still inside the last 60 minutes."""
    current = now.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    previous = current - timedelta(hours=1)
    share_of_previous = 1.0 - (now - current).total_seconds() / 3600.0
    rows = session.execute(
        select(_HOURLY.c.collector, _HOURLY.c.hour, func.sum(_HOURLY.c.count))
        .where(_HOURLY.c.hour >= previous)
        .group_by(_HOURLY.c.collector, _HOURLY.c.hour)
    )
    totals: dict[str, float] = {}
    for collector, hour, count in rows:
        hour_utc = hour if hour.tzinfo else hour.replace(tzinfo=UTC)
        weight = 1.0 if hour_utc >= current else share_of_previous
        totals[collector] = totals.get(collector, 0.0) + weight * int(count)
    return {k: round(v) for k, v in totals.items()}


# ---------------------------------------------------------------- replies


def get_reply(session: Session, reply_id: str) -> Reply | None:
    return session.get(Reply, reply_id)


def queue_reply(session: Session, reply: ReplyMessage) -> None:
    """Record a reply as queued with its outbox row (one transaction: the caller's); a reply
    already known keeps its state (idempotent)."""
    stmt = _insert(session, _REPLIES).values(
        reply_id=str(reply.reply_id),
        thread_key=reply.thread_key,
        in_reply_to=reply.in_reply_to,
        source=reply.source,
        text=reply.text,
        agent=reply.agent,
        status="queued",
        attempts=0,
        created_at=reply.created_at,
        updated_at=datetime.now(UTC),
    )
    session.execute(stmt.on_conflict_do_nothing(index_elements=["reply_id"]))
    outbox.enqueue(session, reply, datetime.now(UTC))


def mark_sending(session: Session, reply_id: str) -> int:
    """Mark the reply as being sent and count the attempt; returns the attempt number. The first
    attempt's time stays: after a crash the network is searched for our reply from then on."""
    now = datetime.now(UTC)
    session.execute(
        update(_REPLIES)
        .where(_REPLIES.c.reply_id == reply_id)
        .values(
            status="sending",
            attempts=_REPLIES.c.attempts + 1,
            first_attempt_at=func.coalesce(_REPLIES.c.first_attempt_at, now),
            updated_at=now,
        )
    )
    return int(session.scalar(select(_REPLIES.c.attempts).where(_REPLIES.c.reply_id == reply_id)) or 0)


def apply_reply_result(session: Session, result: ReplyResult) -> bool:
    """Write a network's answer to a reply and drop its outbox row; returns False if the reply is
    unknown here. `sent` and `manual` record when the network confirmed (`confirmed_at`); the
    desk's settlement (desk.services.reply_outcome) moves the case's clocks from that.

    A final status is never overwritten by a different final one arriving late: `sent` wins over
    `failed` (a reply that reached the network stays sent), otherwise the first final status stays.
    """
    reply_id = str(result.reply_id)
    current = session.scalar(select(_REPLIES.c.status).where(_REPLIES.c.reply_id == reply_id))
    if current is None:
        return False
    if current in FINAL_REPLY_STATUSES and not (current == "failed" and result.status == "sent"):
        return True
    session.execute(
        update(_REPLIES)
        .where(_REPLIES.c.reply_id == reply_id)
        .values(
            status=result.status,
            external_id=result.external_id,
            url=result.url,
            error=result.error,
            confirmed_at=result.at if result.status in ("sent", "manual") else None,
            settled_at=None,
            updated_at=datetime.now(UTC),
        )
    )
    outbox.remove(session, reply_id)
    return True
