"""Change your own password: the current one, then the new one twice. A user whose password was
printed or set by an administrator sees only this page until they have changed it."""

from datetime import UTC, datetime

import streamlit as st

from core.settings import get_settings
from desk.app_pages._resources import session_factory
from desk.app_pages._session import require, restart_session_clock
from desk.services.auth import AuthError
from desk.services.password_policy import MIN_PASSWORD_LENGTH
from desk.services.signin import ThrottlePolicy, change_password

actor = require("queue.view", password_page=True)
st.header("Change password")
if actor.must_change_password:
    st.warning("Your password was given to you: choose your own before you go on.")
with st.form("change_password", clear_on_submit=True):
    current = st.text_input("Current password", type="password")
    new = st.text_input("New password", type="password")
    repeated = st.text_input("New password again", type="password")
    st.caption(
        f"At least {MIN_PASSWORD_LENGTH} characters; not a common password, not your user name. "
        "A phrase of a few unrelated words works well."
    )
    submitted = st.form_submit_button("Change password")
if submitted:
    if new != repeated:
        st.error("The new passwords differ.")
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
            st.success("Password changed. Other sessions of yours were signed out.")
