"""The collectors page: every channel's health, and a red alert for any that fails or stalls.

Alerts and errors quote what the networks answered (an API's message, a site's error page), so
they are shown as plain text: Markdown in them is escaped before st.error renders it."""

import re
from datetime import UTC, datetime, timedelta

import pandas as pd
import streamlit as st

from core.db.collector_status import CollectorStatus, read_status
from core.settings import get_settings
from desk.app_pages._resources import session_factory
from desk.app_pages._session import fragment_actor, require

EMPTY_MESSAGE = "No collector has run yet. Start them with `mentiondesk collect` (or `make run` with tokens)."


#: CommonMark's backslash-escapable punctuation, minus ":" (kept readable; it makes no link)
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$=^&\"'])")


def plain_markdown(text: str) -> str:
    """`text` escaped so that Markdown shows it literally: no emphasis, links, HTML or maths."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", " ".join(text.split()))


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S UTC") if value else "never"


def collectors_frame(rows: list[CollectorStatus]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "Collector": [r.collector for r in rows],
            "State": [r.state for r in rows],
            "Last success": [_when(r.last_success_at) for r in rows],
            "Mentions / hour": [r.mentions_per_hour for r in rows],
            "Total": [r.mentions_total for r in rows],
            "Lag (s)": [round(r.lag_s) if r.lag_s is not None else None for r in rows],
            "Last error": [f"{_when(r.last_error_at)}: {r.last_error}" if r.last_error else "" for r in rows],
        }
    )


@st.fragment(run_every=timedelta(seconds=get_settings().desk_refresh_s))
def collectors_view() -> None:
    fragment_actor("collectors.view")  # checked again on every refresh, not only the first run
    settings = get_settings()
    with session_factory()() as session:
        rows = read_status(session, datetime.now(UTC), settings.stall_periods)
    if not rows:
        st.info(EMPTY_MESSAGE)
        return
    for row in rows:
        if row.alert:
            st.error(f"{plain_markdown(row.collector)}: {plain_markdown(row.alert)}", icon=":material/error:")
    st.dataframe(collectors_frame(rows), hide_index=True, width="stretch")


require("collectors.view")
st.header("Collectors")
collectors_view()
