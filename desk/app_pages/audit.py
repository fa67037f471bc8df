"""The audit log: who assigned, replied, changed status, merged or corrected what, and when."""

import json

import pandas as pd
import streamlit as st

from core.i18n import N_, _
from desk.app_pages._format import when
from desk.app_pages._resources import session_factory
from desk.app_pages._session import require
from desk.services import audit

ACTIONS = (
    "assign", "reply", "status", "merge", "unmerge", "correction", "note", "compensation",
    "compensation_limit", "alert_dismiss",
)  # fmt: skip
ACTION_NAMES = {
    "assign": N_("assignment"),
    "reply": N_("reply"),
    "status": N_("status change"),
    "merge": N_("merge"),
    "unmerge": N_("unmerge"),
    "correction": N_("label correction"),
    "note": N_("note"),
    "compensation": N_("compensation"),
    "compensation_limit": N_("compensation limit"),
    "alert_dismiss": N_("alert dismissed"),
    "language": N_("language"),
}


def action_name(code: str) -> str:
    return _(ACTION_NAMES[code]) if code in ACTION_NAMES else code


require("audit.view")
st.header(_("Audit log"))
chosen = st.multiselect(_("Actions"), ACTIONS, format_func=action_name)
with session_factory()() as session:
    rows = audit.entries(session, actions=chosen)
if not rows:
    st.info(_("Nothing recorded yet."))
else:
    st.dataframe(
        pd.DataFrame(
            {
                _("When"): [when(r.at) for r in rows],
                _("Who"): [r.actor for r in rows],
                _("Action"): [action_name(r.action) for r in rows],
                _("Case"): [r.thread_id for r in rows],
                _("Detail"): [json.dumps(r.detail, ensure_ascii=False) for r in rows],
            }
        ),
        hide_index=True,
        width="stretch",
    )
