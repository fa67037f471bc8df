"""The audit log: who assigned, replied, changed status, merged or corrected what, and when."""

import json

import pandas as pd
import streamlit as st

from desk.app_pages._format import when
from desk.app_pages._resources import session_factory
from desk.app_pages._session import require
from desk.services import audit

ACTIONS = (
    "assign", "reply", "status", "merge", "unmerge", "correction", "note", "compensation",
    "compensation_limit", "alert_dismiss",
)  # fmt: skip

require("audit.view")
st.header("Audit log")
chosen = st.multiselect("Actions", ACTIONS)
with session_factory()() as session:
    rows = audit.entries(session, actions=chosen)
if not rows:
    st.info("Nothing recorded yet.")
else:
    st.dataframe(
        pd.DataFrame(
            {
                "When": [when(r.at) for r in rows],
                "Who": [r.actor for r in rows],
                "Action": [r.action for r in rows],
                "Case": [r.thread_id for r in rows],
                "Detail": [json.dumps(r.detail, ensure_ascii=False) for r in rows],
            }
        ),
        hide_index=True,
        width="stretch",
    )
