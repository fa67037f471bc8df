"""The signed-in user of a browser session, the session's time limits, and the role check every
page starts with.

A session ends after MD_DESK_IDLE_TIMEOUT_S without a user action and MD_DESK_SESSION_MAX_S after
sign-in, whatever happens. Only a full page run counts as an action: the self-refreshing panels
(fragment reruns on a timer) must not keep an abandoned tab signed in forever.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from core.i18n import _, set_language
from core.settings import get_settings
from desk.app_pages._resources import session_factory
from desk.services.auth import Actor, load_actor
from desk.services.labels import role as role_label
from desk.services.sessions import SessionLimits, expiry_reason

USER_KEY = "md_user"
THREAD_KEY = "md_thread"
# the page a case was opened on, in place (see open_case), and the page being shown
CASE_OPEN_ON_KEY = "md_case_open_on"
PAGE_KEY = "md_page"
OPENINGS_KEY = "md_case_openings"
SIGNED_IN_KEY = "md_signed_in_at"
ACTIVE_KEY = "md_active_at"
NOTICE_KEY = "md_notice"
# the browser session's language: the signed-in user's choice, or one picked on the sign-in page
LANGUAGE_KEY = "md_language"
PASSWORD_PAGE = "app_pages/password.py"
_SESSION_KEYS = (USER_KEY, SIGNED_IN_KEY, ACTIVE_KEY)


def _now() -> datetime:
    return datetime.now(UTC)


def _limits() -> SessionLimits:
    settings = get_settings()
    return SessionLimits(
        idle=timedelta(seconds=settings.desk_idle_timeout_s),
        lifetime=timedelta(seconds=settings.desk_session_max_s),
    )


def is_fragment_rerun() -> bool:
    """True while only a fragment reruns (its timer or a widget inside it), not the whole page."""
    ctx = get_script_run_ctx()
    return bool(ctx is not None and ctx.fragment_ids_this_run)


def apply_language() -> str:
    """Put this browser session's language in force for the run (the user's own choice, else the
    one picked on the sign-in page, else MD_DESK_LANGUAGE); the language in force."""
    return set_language(st.session_state.get(LANGUAGE_KEY))


def start_session(actor: Actor) -> None:
    now = _now()
    st.session_state[USER_KEY] = actor.username
    st.session_state[SIGNED_IN_KEY] = now
    st.session_state[ACTIVE_KEY] = now
    st.session_state.pop(NOTICE_KEY, None)


def restart_session_clock() -> None:
    """After this session changed the password: it stays signed in (a new sign-in time), while
    every other session of the user, signed in before the change, ends on its next run."""
    st.session_state[SIGNED_IN_KEY] = _now()


def end_session(notice: str | None = None) -> None:
    for key in _SESSION_KEYS:
        st.session_state.pop(key, None)
    if notice:
        st.session_state[NOTICE_KEY] = notice


def current_actor() -> Actor | None:
    """Re-read from the database on every run, so a disabled user loses access at once; None (and
    the session ended) once the session is past its idle or absolute limit."""
    apply_language()
    username = st.session_state.get(USER_KEY)
    if not username:
        return None
    now = _now()
    # A session without timestamps predates them (or was set up by a test): its clock starts now.
    signed_in_at = st.session_state.setdefault(SIGNED_IN_KEY, now)
    active_at = st.session_state.setdefault(ACTIVE_KEY, now)
    reason = expiry_reason(signed_in_at, active_at, now, _limits())
    if reason is not None:
        end_session(reason)
        return None
    with session_factory()() as session:
        actor = load_actor(session, str(username))
    if actor is None:
        end_session()
        return None
    if actor.language:
        st.session_state[LANGUAGE_KEY] = actor.language
        apply_language()
    if actor.password_changed_at is not None and signed_in_at < actor.password_changed_at:
        end_session(_("Your password was changed; please sign in again."))
        return None
    if not is_fragment_rerun():
        st.session_state[ACTIVE_KEY] = now
    return actor


def signed_in_notice() -> str:
    return str(st.session_state.get(NOTICE_KEY) or _("Please sign in."))


def require(permission: str, *, password_page: bool = False) -> Actor:
    """The signed-in user if their role allows `permission`; otherwise stop the page here.

    A user who must change their password gets nothing but the password page."""
    actor = current_actor()
    if actor is None:
        st.warning(signed_in_notice())
        st.stop()
    assert actor is not None
    if actor.must_change_password and not password_page:
        st.warning(_("Change your password first."))
        st.stop()
    if not actor.can(permission):
        st.error(_("Your role ({role}) does not allow this page.").format(role=role_label(actor.role)))
        st.stop()
    return actor


def fragment_actor(permission: str) -> Actor:
    """For self-refreshing panels: the user checked again on every run of the panel, not the one
    the last full page run saw. When they lost access (disabled, role changed, session over), the
    whole page runs again, and its `require` shows the sign-in prompt instead of the page."""
    actor = current_actor()
    if actor is None or actor.must_change_password or not actor.can(permission):
        st.rerun(scope="app")
    assert actor is not None
    return actor


def open_case(thread_id: int) -> None:
    """Open a case in place: the page the user is on shows it, with a way back.

    Not a page switch: after `st.switch_page`, Streamlit's web client can apply the new page's
    first element before it clears the old page, then fail on the next one and draw nothing (a
    blank page, measured on about one opening in four). A rerun of the same page never clears it.
    """
    st.session_state[THREAD_KEY] = thread_id
    st.session_state[CASE_OPEN_ON_KEY] = st.session_state.get(PAGE_KEY, "")
    st.session_state[OPENINGS_KEY] = st.session_state.get(OPENINGS_KEY, 0) + 1
    st.rerun(scope="app")


def opener_key(base: str) -> str:
    """The key of a table whose row click opens a case: a new one after each opening, so the row
    clicked last is not still selected (and opened again) when the user comes back."""
    openings = int(st.session_state.get(OPENINGS_KEY, 0))
    return base if openings == 0 else f"{base}_{openings}"


def case_open_here(page: str) -> int | None:
    """The case opened in place on `page` (the router's page being shown), if any; this page is
    remembered for `open_case`. Going to another page (the sidebar) closes the case."""
    st.session_state[PAGE_KEY] = page
    opened_on = st.session_state.get(CASE_OPEN_ON_KEY)
    if opened_on is None:
        return None
    if opened_on != page:
        close_case()
        return None
    thread_id = st.session_state.get(THREAD_KEY)
    return int(thread_id) if thread_id is not None else None


def close_case() -> None:
    st.session_state.pop(CASE_OPEN_ON_KEY, None)
