"""What the analytics pages share: the role gate and the alert banner (UI only)."""

from __future__ import annotations

from datetime import UTC, datetime

import streamlit as st

from core.db.alerts import acknowledge, active_alerts
from desk.app_pages._resources import session_factory
from desk.app_pages._session import current_actor

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
    """Unacknowledged spike alerts of the last day, as plain-text banners with a dismiss button."""
    with session_factory()() as session:
        alerts = active_alerts(session, datetime.now(UTC))
    for row in alerts[:3]:
        cols = st.columns([8, 1])
        cols[0].error(
            f"Negativity spike: {row.brand or 'all brands'}"
            f"{' / ' + row.source if row.source else ''}{' / ' + row.topic if row.topic else ''}: "
            f"{row.negative_count} of {row.total_count} negative ({row.negative_share:.0%}, usually "
            f"{row.baseline_share:.0%}) at {row.window_start:%Y-%m-%d %H:%M} UTC",
            icon=":material/warning:",
        )
        if cols[1].button("Dismiss", key=f"ack-{row.alert_id}"):
            with session_factory()() as session:
                acknowledge(session, row.alert_id, username, datetime.now(UTC))
                session.commit()
            st.rerun()
