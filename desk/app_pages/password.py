"""Change your own password: the current one, then the new one twice. A user whose password was
printed or set by an administrator sees only this page until they have changed it. Below it, the
user's language (stored on the user, so it follows them to every browser)."""

from datetime import UTC, datetime

import streamlit as st

from core.i18n import LANGUAGE_NAMES, LANGUAGES, _, _p, language
from core.settings import get_settings
from desk.app_pages._resources import session_factory
from desk.app_pages._session import LANGUAGE_KEY, apply_language, require, restart_session_clock
from desk.services.auth import AuthError
from desk.services.password_policy import MIN_PASSWORD_LENGTH
from desk.services.signin import ThrottlePolicy, change_password
from desk.services.user_language import set_user_language

actor = require("queue.view", password_page=True)
st.header(_p("heading", "Change password"))
if actor.must_change_password:
    st.warning(_("Your password was given to you: choose your own before you go on."))
with st.form("change_password", clear_on_submit=True):
    current = st.text_input(_("Current password"), type="password")
    new = st.text_input(_("New password"), type="password")
    repeated = st.text_input(_("New password again"), type="password")
    st.caption(
        _(
            "At least {n} characters; not a common password, not your user name. "
            "A phrase of a few unrelated words works well."
        ).format(n=MIN_PASSWORD_LENGTH)
    )
    submitted = st.form_submit_button(_("Change password"))
if submitted:
    if new != repeated:
        st.error(_("The new passwords differ."))
    else:
        with session_factory()() as session:
            try:
                change_password(
                    session,
                    actor.username,
                    current,
                    new,
                    now=datetime.now(UTC),
                    policy=ThrottlePolicy.from_settings(get_settings()),
                )
                failure = None
            except AuthError as exc:
                failure = str(exc)
            session.commit()
        if failure is not None:
            st.error(failure)
        else:
            restart_session_clock()  # this tab stays signed in; every other session has ended
            if actor.must_change_password:
                st.rerun()  # the router now shows the whole desk
            st.success(_("Password changed. Other sessions of yours were signed out."))

if not actor.must_change_password:
    st.subheader(_("Language"))
    with st.form("language"):
        chosen = st.selectbox(
            _("Language of the desk"),
            LANGUAGES,
            index=LANGUAGES.index(language()),
            format_func=LANGUAGE_NAMES.__getitem__,
        )
        saved = st.form_submit_button(_("Save language"))
    if saved:
        with session_factory()() as session:
            set_user_language(session, actor, chosen)
            session.commit()
        st.session_state[LANGUAGE_KEY] = chosen
        apply_language()
        st.rerun()
