"""What the analytics pages share: the role gate and the alert banner (UI only)."""

from __future__ import annotations

from datetime import UTC, datetime

import streamlit as st

from core.i18n import _, format_percent
from desk.app_pages._format import when
from desk.app_pages._resources import session_factory
from desk.app_pages._session import current_actor
from desk.services.alert_dismissal import dismiss_alert, hide_alert, visible_alerts
from desk.services.auth import Actor, PermissionDenied
from desk.services.labels import role as role_label

ANALYTICS_ROLES = ("manager", "brand_lead", "admin")


def require_analytics() -> str:
    """The signed-in manager, brand lead or admin; anyone else stops here."""
    actor = current_actor()
    if actor is None:
        st.warning(_("Please sign in."))
        st.stop()
    assert actor is not None
    if actor.role not in ANALYTICS_ROLES:
        st.error(_("Your role ({role}) does not allow this page.").format(role=role_label(actor.role)))
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
        scope = " / ".join(p for p in (row.brand or _("all brands"), row.source, row.topic) if p)
        cols[0].error(
            _(
                "Negativity spike: {scope}: {negative} of {total} negative ({share}, usually {baseline})"
                " at {at}"
            ).format(
                scope=scope,
                negative=row.negative_count,
                total=row.total_count,
                share=format_percent(row.negative_share, 0),
                baseline=format_percent(row.baseline_share, 0),
                at=when(row.window_start),
            ),
            icon=":material/warning:",
        )
        label, help_text = (
            (_("Dismiss"), _("dismiss for everyone"))
            if can_dismiss
            else (_("Hide"), _("hide for me; a manager dismisses it"))
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
