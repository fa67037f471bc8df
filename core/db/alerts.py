"""Spike alerts in the database: stored once in `alerts` (so a redelivered `alerts.v1` message
is delivered no second time), their delivery status, the desk's banner and acknowledgements."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, Table, or_, select, update
from sqlalchemy.orm import InstrumentedAttribute, Session

from core.db.models_analytics import AlertRow
from core.db.repository import _insert
from schemas import Alert
from schemas.base import utc_now

_ALERTS: Table = AlertRow.__table__  # type: ignore[assignment]


def save_alerts(session: Session, alerts: Sequence[Alert]) -> list[Alert]:
    """Insert the alerts not stored yet; returns those that were new. The caller commits."""
    new: list[Alert] = []
    for alert in alerts:
        stmt = (
            _insert(session, _ALERTS)
            .values(
                alert_id=alert.alert_id,
                brand=alert.brand,
                source=alert.source,
                topic=alert.topic,
                window_start=alert.window_start,
                window_end=alert.window_end,
                negative_count=alert.negative_count,
                total_count=alert.total_count,
                negative_share=alert.negative_share,
                baseline_share=alert.baseline_share,
                score=alert.score,
                payload=json.loads(alert.model_dump_json()),
                raised_at=alert.raised_at,
                stored_at=utc_now(),
            )
            .on_conflict_do_nothing(index_elements=["alert_id"])
            .returning(_ALERTS.c.alert_id)
        )
        if session.execute(stmt).first() is not None:
            new.append(alert)
    return new


def record_delivery(session: Session, alert_id: str, webhook: str | None, email: str | None) -> None:
    session.execute(
        update(AlertRow)
        .where(AlertRow.alert_id == alert_id)
        .values(webhook_status=webhook, email_status=email)
    )


#: how core.notify.alerts.deliver reports a channel that could not be reached ("failed: <reason>")
FAILED_PREFIX = "failed"


def _failed(column: InstrumentedAttribute[str | None]) -> ColumnElement[bool]:
    return column.like(f"{FAILED_PREFIX}%")


def delivery_failed(row: AlertRow) -> bool:
    """Whether the webhook or the e-mail of this alert could not be delivered."""
    return any((s or "").startswith(FAILED_PREFIX) for s in (row.webhook_status, row.email_status))


def undelivered_alerts(session: Session, start: datetime, end: datetime) -> list[AlertRow]:
    """Alerts whose window starts in [start, end) and that some configured channel never received,
    newest first: the desk keeps them in view whatever their acknowledgement."""
    return list(
        session.scalars(
            select(AlertRow)
            .where(AlertRow.window_start >= start, AlertRow.window_start < end)
            .where(or_(_failed(AlertRow.webhook_status), _failed(AlertRow.email_status)))
            .order_by(AlertRow.window_start.desc())
        )
    )


def active_alerts(session: Session, now: datetime, within: timedelta = timedelta(hours=24)) -> list[AlertRow]:
    """Alerts not acknowledged, raised (event time) or stored within `within` of `now`, newest first."""
    since = now - within
    rows = session.scalars(
        select(AlertRow)
        .where(AlertRow.acknowledged_at.is_(None), AlertRow.stored_at >= since)
        .order_by(AlertRow.window_start.desc())
    )
    return list(rows)


def alerts_between(session: Session, start: datetime, end: datetime) -> list[AlertRow]:
    """Alerts whose window starts in [start, end), oldest first."""
    return list(
        session.scalars(
            select(AlertRow)
            .where(AlertRow.window_start >= start, AlertRow.window_start < end)
            .order_by(AlertRow.window_start)
        )
    )


def acknowledge(session: Session, alert_id: str, who: str, now: datetime) -> None:
    session.execute(
        update(AlertRow).where(AlertRow.alert_id == alert_id).values(acknowledged_at=now, acknowledged_by=who)
    )


def alert_of(row: AlertRow) -> Alert:
    return Alert.model_validate(row.payload)
