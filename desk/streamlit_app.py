"""The desk's entry point (`streamlit run desk/streamlit_app.py`): page config, login gate and a
router whose pages depend on the user's role."""

import sys
from pathlib import Path

import streamlit as st

# `streamlit run` puts this folder, not the project root, on sys.path; the pages import `desk.*`.
_PROJECT_ROOT = str(Path(__file__).resolve().parent.parent)
if _PROJECT_ROOT not in sys.path:
    sys.path.insert(0, _PROJECT_ROOT)

from core.i18n import _, _p  # noqa: E402
from desk.app_pages._session import case_open_here, current_actor, end_session  # noqa: E402
from desk.services.labels import role as role_label  # noqa: E402

_PAGES = Path(__file__).resolve().parent / "app_pages"

st.set_page_config(page_title="mentiondesk", page_icon=":material/support_agent:", layout="wide")
st.sidebar.caption("mentiondesk")  # the product's name once, in the sidebar; each page has its own title

actor = current_actor()
_password_page = st.Page(_PAGES / "password.py", title=_("Password and language"), icon=":material/key:")
if actor is None:
    end_session()
    navigation = st.navigation(
        [st.Page(_PAGES / "login.py", title=_p("heading", "Sign in"), icon=":material/login:")]
    )
elif actor.must_change_password:
    # its own URL path: once the password is changed, the rerun lands on the queue, not here again
    navigation = st.navigation(
        [st.Page(_PAGES / "password.py", title=_("Choose a password"), url_path="first-password")]
    )
else:
    pages = [
        st.Page(_PAGES / "queue.py", title=_("Queue"), icon=":material/inbox:", default=True),
        st.Page(_PAGES / "thread.py", title=_("Thread"), icon=":material/forum:"),
        st.Page(_PAGES / "search.py", title=_("Search"), icon=":material/search:"),
    ]
    if actor.can("collectors.view"):
        pages.append(st.Page(_PAGES / "collectors.py", title=_("Collectors"), icon=":material/sensors:"))
    if actor.can("audit.view"):
        pages.append(st.Page(_PAGES / "audit.py", title=_("Audit log"), icon=":material/history:"))
    if actor.can("admin.edit"):
        pages.append(st.Page(_PAGES / "admin.py", title=_("Admin"), icon=":material/settings:"))
    if actor.role in ("manager", "brand_lead", "admin"):
        pages.append(st.Page(_PAGES / "trends.py", title=_("Trends"), icon=":material/trending_up:"))
        pages.append(st.Page(_PAGES / "kpis.py", title=_("KPIs"), icon=":material/analytics:"))
        pages.append(st.Page(_PAGES / "digest.py", title=_("Digest"), icon=":material/summarize:"))
        pages.append(st.Page(_PAGES / "weekly.py", title=_("Weekly report"), icon=":material/date_range:"))
    pages.append(_password_page)
    from desk.app_pages._analytics import alert_banner

    alert_banner(actor.username)  # negativity spikes, for everyone signed in
    with st.sidebar:
        st.text(_("Signed in: {user} ({role})").format(user=actor.username, role=role_label(actor.role)))
        if st.button(_("Sign out")):
            st.session_state.clear()  # the open case and filters too: the next user starts clean
            st.rerun()
    from desk.app_pages._notices import sidebar as notices_sidebar
    from desk.app_pages._sections import by_section, section_labels

    notices_sidebar(actor)  # the user's notices and away switch
    navigation = st.navigation(by_section(pages, section_labels()))
    in_place = case_open_here(navigation.url_path)
    if in_place is not None:  # a case opened from this page (the queue, search, a notice)
        from desk.app_pages._case_view import show_in_place

        show_in_place(in_place)
        st.stop()
navigation.run()
