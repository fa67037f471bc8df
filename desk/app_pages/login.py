"""Sign in with a desk user name and password."""

import streamlit as st

from core.settings import get_settings
from desk.app_pages._resources import session_factory
from desk.app_pages._session import USER_KEY
from desk.services.auth import authenticate, count_users

st.header("Sign in")
with session_factory()() as session:
    has_users = count_users(session) > 0
if not has_users:
    if get_settings().environment == "production":
        st.error(
            "No desk users exist. An administrator must create one: "
            "`mentiondesk users add NAME --role admin`."
        )
    else:
        st.info("No desk users yet: `mentiondesk up` creates an admin, or run `mentiondesk users add`.")
    st.stop()

with st.form("login"):
    username = st.text_input("User name")
    password = st.text_input("Password", type="password")
    submitted = st.form_submit_button("Sign in")
if submitted:
    with session_factory()() as session:
        actor = authenticate(session, username, password)
        session.commit()
    if actor is None:
        st.error("Wrong user name or password, or the account is disabled.")
    else:
        st.session_state[USER_KEY] = actor.username
        st.rerun()
