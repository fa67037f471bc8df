"""Spike alerts after the stream: stored once in `alerts`, delivered once (webhook, e-mail), shown
as a banner in the desk until acknowledged.

Delivery happens only for an alert this call really inserted, so a redelivered `alerts.v1` message
posts nothing twice. Webhook JSON carries `text` (what Slack incoming webhooks and Telegram's
sendMessage read; `chat_id` is added when MD_ALERT_WEBHOOK_CHAT_ID is set) and the full `alert`.
"""

from __future__ import annotations

import json
import logging
import urllib.request
from collections.abc import Sequence
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import Any

from sqlalchemy import Table, func, select, update
from sqlalchemy.orm import Session

from desk.services.mail import recipients, send_message
from desk.store.models import Mention
from desk.store.models_analytics import AlertRow
from desk.store.repository import _insert
from mentiondesk.settings import Settings
from schemas import Alert, ScoredMention
from schemas.base import utc_now
from sentiment.windowing import Point

log = logging.getLogger(__name__)

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


def webhook_payload(alert: Alert, chat_id: str | None = None) -> dict[str, Any]:
    lines = [alert.headline()]
    if alert.top_terms:
        lines.append("Top terms: " + ", ".join(alert.top_terms))
    for example in alert.examples[:3]:
        lines.append(f"- ({example.negativity:.2f}) {example.text[:200]}")
    payload: dict[str, Any] = {"text": "\n".join(lines), "alert": json.loads(alert.model_dump_json())}
    if chat_id:
        payload["chat_id"] = chat_id
    return payload


def post_webhook(url: str, payload: dict[str, Any], timeout: float = 10.0) -> int:
    body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
    request = urllib.request.Request(
        url, data=body, method="POST", headers={"Content-Type": "application/json; charset=utf-8"}
    )
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return int(response.status)


def alert_email(alert: Alert, to: Sequence[str], sender: str) -> EmailMessage:
    message = EmailMessage()
    message["Subject"] = f"[mentiondesk] {alert.headline()}"
    message["From"] = sender
    message["To"] = ", ".join(to)
    message.set_content(webhook_payload(alert)["text"])
    return message


def deliver(alert: Alert, settings: Settings) -> tuple[str | None, str | None]:
    """Post and mail one alert; returns (webhook status, e-mail status), None where not configured.
    A failed channel is reported in its status and does not stop the other."""
    webhook: str | None = None
    if settings.alert_webhook_url:
        try:
            code = post_webhook(
                settings.alert_webhook_url, webhook_payload(alert, settings.alert_webhook_chat_id)
            )
            webhook = f"sent {code}"
        except Exception as exc:
            log.warning("alert webhook failed: %s", exc)
            webhook = f"failed: {exc}"[:255]
    email: str | None = None
    to = recipients(settings.alert_email_to)
    if settings.smtp_host and to:
        try:
            send_message(settings, alert_email(alert, to, settings.mail_from))
            email = "sent"
        except Exception as exc:
            log.warning("alert e-mail failed: %s", exc)
            email = f"failed: {exc}"[:255]
    return webhook, email


def record_delivery(session: Session, alert_id: str, webhook: str | None, email: str | None) -> None:
    session.execute(
        update(AlertRow)
        .where(AlertRow.alert_id == alert_id)
        .values(webhook_status=webhook, email_status=email)
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


def history_points(
    session: Session, span: timedelta
) -> tuple[list[Point], list[tuple[str | None, datetime]]]:
    """Customer mentions of the last `span` before the newest stored one (event time, so a replayed
    day works), oldest first, and the (brand, window_end) of alerts already raised in that span:
    what the spike detector needs to rebuild its baselines after a restart."""
    newest = session.scalar(select(func.max(Mention.created_at)))
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
        .where(Mention.created_at >= since, Mention.is_brand.is_(False))
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
