"""The sidebar's notices panel and away switch for the signed-in user (UI only; the logic is in
desk.services.notices and desk.services.user_prefs)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import streamlit as st

from core.i18n import _
from core.settings import get_settings
from desk.app_pages._format import when
from desk.app_pages._resources import session_factory
from desk.app_pages._session import current_actor, open_case
from desk.services.auth import Actor, PermissionDenied
from desk.services.notices import mark_read, notice_text, recent, unread_count
from desk.services.user_prefs import prefs, set_away, set_contacts


def _away_switch(actor: Actor) -> None:
    with session_factory()() as session:
        row = prefs(session, actor.username)
    away = bool(row is not None and row.away)
    wanted = st.toggle(
        _("Away"),
        value=away,
        key="md_away",
        help=_("while away you get no new threads; your notices still come"),
    )
    if wanted != away:
        with session_factory()() as session:
            set_away(session, actor, wanted, datetime.now(UTC))
            session.commit()
        st.rerun()


def _contacts(actor: Actor) -> None:
    with st.expander(_("Notify me also by")):
        with session_factory()() as session:
            row = prefs(session, actor.username)
        email = st.text_input(_("E-mail"), value=(row.email if row else None) or "", key="md_notify_email")
        chat = st.text_input(
            _("Telegram chat id"), value=(row.telegram_chat_id if row else None) or "", key="md_notify_chat"
        )
        if st.button(_("Save"), key="md_notify_save"):
            try:
                with session_factory()() as session:
                    set_contacts(session, actor, actor.username, email=email, telegram_chat_id=chat)
                    session.commit()
                st.success(_("Saved."))
            except (ValueError, LookupError, PermissionDenied) as exc:
                st.error(str(exc))


@st.fragment(run_every=timedelta(seconds=get_settings().desk_refresh_s))
def _notices_panel() -> None:
    actor = current_actor()
    if actor is None:
        return
    with session_factory()() as session:
        count = unread_count(session, actor.username)
        rows = recent(session, actor.username, limit=10)
    label = _("Notices ({count} unread)").format(count=count) if count else _("Notices")
    with st.expander(label, icon=":material/notifications:"):
        if not rows:
            st.caption(_("No notices yet."))
        for notice in rows:
            mark = "" if notice.read_at else "● "
            st.text(f"{mark}{when(notice.created_at)}\n{notice_text(notice, when)}")
            if st.button(_("Open case {id}").format(id=notice.thread_id), key=f"md_notice_open_{notice.id}"):
                with session_factory()() as session:
                    mark_read(session, actor.username, [notice.id])
                    session.commit()
                open_case(notice.thread_id)
        if count and st.button(_("Mark all read"), key="md_notices_read"):
            with session_factory()() as session:
                mark_read(session, actor.username)
                session.commit()
            st.rerun()


def sidebar(actor: Actor) -> None:
    """The notices, the away switch and the notice contacts, in the sidebar."""
    with st.sidebar:
        _notices_panel()
        _away_switch(actor)
        _contacts(actor)
