"""The desk's entry point (`streamlit run desk/streamlit_app.py`): page config and router only."""

import sys
from pathlib import Path

import streamlit as st

# `streamlit run` puts this folder, not the project root, on sys.path; the pages import `desk.*`.
_PROJECT_ROOT = str(Path(__file__).resolve().parent.parent)
if _PROJECT_ROOT not in sys.path:
    sys.path.insert(0, _PROJECT_ROOT)

_PAGES = Path(__file__).resolve().parent / "app_pages"

st.set_page_config(page_title="mentiondesk", page_icon=":material/support_agent:", layout="wide")
st.title("mentiondesk")

navigation = st.navigation(
    [
        st.Page(_PAGES / "queue.py", title="Queue", icon=":material/inbox:", default=True),
        st.Page(_PAGES / "collectors.py", title="Collectors", icon=":material/sensors:"),
    ]
)
navigation.run()
