"""Sign in with a desk user name and password, throttled per user name and per client."""

from datetime import UTC, datetime

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from core.i18n import LANGUAGE_NAMES, LANGUAGES, _, _p
from core.settings import get_settings
from desk.app_pages._resources import session_factory
from desk.app_pages._session import LANGUAGE_KEY, NOTICE_KEY, apply_language, start_session
from desk.services.auth import count_users
from desk.services.signin import ThrottlePolicy, sign_in


def client_key() -> str:
    """The client's address: from MD_DESK_CLIENT_IP_HEADER's last entry (the one the trusted proxy
    added) when set, else the connection's. Unknown (local connections): this browser session."""
    address: str | None = None
    header = get_settings().desk_client_ip_header
    if header:
        value = st.context.headers.get(header)
        address = value.split(",")[-1].strip() if value else None
    address = address or st.context.ip_address
    if address:
        return f"client:{address}"
    ctx = get_script_run_ctx()
    return f"session:{ctx.session_id if ctx is not None else 'unknown'}"


language = apply_language()
chosen = st.radio(
    _("Language"),
    LANGUAGES,
    index=LANGUAGES.index(language),
    format_func=LANGUAGE_NAMES.__getitem__,
    horizontal=True,
    key="login_language",
)
if chosen != language:  # for this browser session; a signed-in user's own choice wins
    st.session_state[LANGUAGE_KEY] = chosen
    st.rerun()
st.header(_p("heading", "Sign in"))
if notice := st.session_state.get(NOTICE_KEY):
    st.warning(str(notice))
with session_factory()() as session:
    has_users = count_users(session) > 0
if not has_users:
    if get_settings().environment == "production":
        st.error(
            _(
                "No desk users exist. An administrator must create one: "
                "`mentiondesk users add NAME --role admin`."
            )
        )
    else:
        st.info(_("No desk users yet: `mentiondesk up` creates an admin, or run `mentiondesk users add`."))
    st.stop()

with st.form("login"):
    username = st.text_input(_("User name"))
    password = st.text_input(_("Password"), type="password")
    submitted = st.form_submit_button(_("Sign in"))
if submitted:
    with session_factory()() as session:
        result = sign_in(
            session,
            username,
            password,
            client_key(),
            now=datetime.now(UTC),
            policy=ThrottlePolicy.from_settings(get_settings()),
        )
        session.commit()
    if result.actor is None:
        st.error(result.message)
    else:
        start_session(result.actor)
        st.rerun()
