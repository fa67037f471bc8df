"""The spike detector's view of stored and streamed mentions: window points, and the history that
rebuilds its baselines after a restart."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.db.models import Mention
from core.db.models_analytics import AlertRow
from schemas import ScoredMention
from sentiment.windowing import Point


def history_points(
    session: Session, span: timedelta, stored_before: datetime
) -> tuple[list[Point], list[tuple[str | None, datetime]]]:
    """Customer mentions stored before `stored_before` (the worker's start) of the last `span`
    before the newest of them (event time, so a replayed day works), oldest first, and the
    (brand, window_end) of alerts already raised in that span: what the spike detector needs to
    rebuild its baselines after a restart. What the worker stores itself reaches the detector
    through the stream: read here too, its windows would be closed without being judged."""
    stored = Mention.stored_at < stored_before
    newest = session.scalar(select(func.max(Mention.created_at)).where(stored))
    if newest is None:
        return [], []
    since = newest - span
    rows = session.execute(
        select(
            Mention.source,
            Mention.external_id,
            Mention.brand,
            Mention.topics,
            Mention.created_at,
            Mention.label,
            Mention.negativity,
            Mention.text,
        )
        .where(Mention.created_at >= since, Mention.is_brand.is_(False), stored)
        .order_by(Mention.created_at)
    )
    points = [
        Point(
            mention_id=f"{r.source}:{r.external_id}",
            brand=r.brand,
            source=r.source,
            topics=tuple(r.topics or ()),
            created_at=r.created_at,
            negative=r.label == "negative",
            negativity=r.negativity,
            text=r.text,
        )
        for r in rows
    ]
    alerted = [
        (brand, end)
        for brand, end in session.execute(
            select(AlertRow.brand, AlertRow.window_end).where(AlertRow.window_end >= since)
        )
    ]
    return points, alerted


def point_of(mention: ScoredMention) -> Point:
    return Point(
        mention_id=f"{mention.source}:{mention.external_id}",
        brand=mention.brand,
        source=mention.source,
        topics=mention.topics,
        created_at=mention.created_at,
        negative=mention.label == "negative",
        negativity=mention.negativity,
        text=mention.text,
    )
