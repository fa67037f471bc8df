"""Spike alerts on the desk: dismissing one for everyone is a manager's (or an admin's) action;
anyone else hides it for themselves only, so an agent cannot silence an alert the managers have not
seen. Hidden ids are kept per user in `desk_settings` (one row per user, so two users hiding at
once never overwrite each other), pruned to the alerts still shown."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

from sqlalchemy.orm import Session

from core.db.alerts import acknowledge, active_alerts
from core.db.models_analytics import AlertRow
from core.db.models_desk import DeskSetting
from core.i18n import _
from desk.services import audit
from desk.services.auth import Actor, PermissionDenied

HIDDEN_KEY_PREFIX = "alerts.hidden."


def _hidden_key(username: str) -> str:
    """The user's row key: hashed, because a 64-character user name plus a prefix would not fit
    the 64-character key column."""
    return HIDDEN_KEY_PREFIX + hashlib.sha256(username.encode("utf-8")).hexdigest()[:40]


def dismiss_alert(session: Session, actor: Actor, alert_id: str, now: datetime | None = None) -> None:
    """Acknowledge the alert for everyone (does not commit)."""
    if not actor.can("alert.dismiss"):
        raise PermissionDenied(
            _(
                "{user} ({role}) may not dismiss a spike alert for everyone: only a manager "
                "or an admin may; hide it for yourself instead"
            ).format(user=actor.username, role=actor.role)
        )
    row = session.get(AlertRow, alert_id)
    if row is None:
        raise LookupError(_("no alert {id}").format(id=alert_id))
    now = now or datetime.now(UTC)
    acknowledge(session, alert_id, actor.username, now)
    audit.record(session, actor.username, "alert_dismiss", None, at=now, alert_id=alert_id, brand=row.brand)


def hide_alert(session: Session, actor: Actor, alert_id: str, now: datetime | None = None) -> None:
    """Hide the alert from `actor`'s banner only (does not commit)."""
    now = now or datetime.now(UTC)
    still_shown = {row.alert_id for row in active_alerts(session, now)}
    key = _hidden_key(actor.username)
    row = session.get(DeskSetting, key)
    hidden = set(row.value.get("alert_ids", [])) if row is not None else set()
    value = {"username": actor.username, "alert_ids": sorted((hidden & still_shown) | {alert_id})}
    if row is None:
        session.add(DeskSetting(key=key, value=value, updated_at=now))
    else:
        row.value = value  # a new dict: the JSON column sees the change
        row.updated_at = now


def hidden_alert_ids(session: Session, username: str) -> set[str]:
    row = session.get(DeskSetting, _hidden_key(username))
    return set(row.value.get("alert_ids", [])) if row is not None else set()


def visible_alerts(session: Session, username: str, now: datetime) -> list[AlertRow]:
    """The alerts `username`'s banner shows: not dismissed for everyone, not hidden by them."""
    hidden = hidden_alert_ids(session, username)
    return [row for row in active_alerts(session, now) if row.alert_id not in hidden]
