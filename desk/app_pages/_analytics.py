"""What the analytics pages share: the role gate and the alert banner (UI only)."""

from __future__ import annotations

from datetime import UTC, datetime

import streamlit as st

from desk.app_pages._resources import session_factory
from desk.app_pages._session import current_actor
from desk.services.alert_dismissal import dismiss_alert, hide_alert, visible_alerts
from desk.services.auth import Actor, PermissionDenied

ANALYTICS_ROLES = ("manager", "brand_lead", "admin")


def require_analytics() -> str:
    """The signed-in manager, brand lead or admin; anyone else stops here."""
    actor = current_actor()
    if actor is None:
        st.warning("Please sign in.")
        st.stop()
    assert actor is not None
    if actor.role not in ANALYTICS_ROLES:
        st.error(f"Your role ({actor.role}) does not allow this page.")
        st.stop()
    return actor.username


def alert_banner(username: str) -> None:
    """Spike alerts of the last day not dismissed (and not hidden by this user), as plain-text
    banners: a manager or admin dismisses one for everyone, anyone else hides it for themselves."""
    actor = current_actor() or Actor(username, "agent")
    can_dismiss = actor.can("alert.dismiss")
    with session_factory()() as session:
        alerts = visible_alerts(session, actor.username, datetime.now(UTC))
    for row in alerts[:3]:
        cols = st.columns([8, 1])
        cols[0].error(
            f"Negativity spike: {row.brand or 'all brands'}"
            f"{' / ' + row.source if row.source else ''}{' / ' + row.topic if row.topic else ''}: "
            f"{row.negative_count} of {row.total_count} negative ({row.negative_share:.0%}, usually "
            f"{row.baseline_share:.0%}) at {row.window_start:%Y-%m-%d %H:%M} UTC",
            icon=":material/warning:",
        )
        label, help_text = (
            ("Dismiss", "dismiss for everyone")
            if can_dismiss
            else ("Hide", "hide for me; a manager dismisses it")
        )
        if cols[1].button(label, key=f"ack-{row.alert_id}", help=help_text):
            action = dismiss_alert if can_dismiss else hide_alert
            try:
                with session_factory()() as session:
                    action(session, actor, row.alert_id, datetime.now(UTC))
                    session.commit()
            except (PermissionDenied, LookupError) as exc:
                st.error(str(exc))
                return
            st.rerun()
