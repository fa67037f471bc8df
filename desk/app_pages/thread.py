"""The Thread page: the case this session opened last (or the `thread` query parameter names)."""

import streamlit as st

from core.i18n import _
from desk.app_pages._case_view import requested_thread, show_case
from desk.app_pages._session import require

actor = require("thread.view")
thread_id = requested_thread()
if thread_id is None:
    st.info(_("Open a case from the queue."))
    st.stop()
assert thread_id is not None
show_case(actor, thread_id)
