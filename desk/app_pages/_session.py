"""The signed-in user of a browser session, and the role check every page starts with."""

from __future__ import annotations

import streamlit as st

from desk.app_pages._resources import session_factory
from desk.services.auth import Actor, load_actor

USER_KEY = "md_user"
THREAD_KEY = "md_thread"


def current_actor() -> Actor | None:
    """Re-read from the database on every run, so a disabled user loses access at once."""
    username = st.session_state.get(USER_KEY)
    if not username:
        return None
    with session_factory()() as session:
        return load_actor(session, str(username))


def require(permission: str) -> Actor:
    """The signed-in user if their role allows `permission`; otherwise stop the page here."""
    actor = current_actor()
    if actor is None:
        st.warning("Please sign in.")
        st.stop()
    assert actor is not None
    if not actor.can(permission):
        st.error(f"Your role ({actor.role}) does not allow this page.")
        st.stop()
    return actor
