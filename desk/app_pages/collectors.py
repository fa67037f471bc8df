"""The collectors page: every channel's health, and a red alert for any that fails or stalls.

Alerts and errors quote what the networks answered (an API's message, a site's error page), so
they are shown as plain text: Markdown in them is escaped before st.error renders it."""

import re
from datetime import UTC, datetime, timedelta

import pandas as pd
import streamlit as st

from core.db.collector_status import CollectorStatus, read_status
from core.i18n import N_, _
from core.settings import get_settings
from desk.app_pages._resources import page_zone, session_factory
from desk.app_pages._session import fragment_actor, require

EMPTY_MESSAGE = N_(
    "No collector has run yet. Start them with `mentiondesk collect` (or `make run` with tokens)."
)

STATES = {
    "ok": N_("ok"),
    "failing": N_("failing"),
    "rate_limited": N_("rate limited"),
    "stopped": N_("stopped"),
    "stalled": N_("stalled"),
}

#: CommonMark's backslash-escapable punctuation, minus ":" (kept readable; it makes no link)
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$=^&\"'])")


def plain_markdown(text: str) -> str:
    """`text` escaped so that Markdown shows it literally: no emphasis, links, HTML or maths."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", " ".join(text.split()))


def _when(value: datetime | None) -> str:
    """In the desk's time zone, to the second."""
    if value is None:
        return _("never")
    local = value.astimezone(page_zone())
    return f"{local:%Y-%m-%d %H:%M:%S} {local.tzname()}"


def collectors_frame(rows: list[CollectorStatus]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            _("Collector"): [r.collector for r in rows],
            _("State"): [_(STATES[r.state]) if r.state in STATES else r.state for r in rows],
            _("Last success"): [_when(r.last_success_at) for r in rows],
            _("Mentions / hour"): [r.mentions_per_hour for r in rows],
            _("Total"): [r.mentions_total for r in rows],
            _("Lag (s)"): [round(r.lag_s) if r.lag_s is not None else None for r in rows],
            _("Last error"): [
                f"{_when(r.last_error_at)}: {r.last_error}" if r.last_error else "" for r in rows
            ],
        }
    )


@st.fragment(run_every=timedelta(seconds=get_settings().desk_refresh_s))
def collectors_view() -> None:
    fragment_actor("collectors.view")  # checked again on every refresh, not only the first run
    settings = get_settings()
    with session_factory()() as session:
        rows = read_status(session, datetime.now(UTC), settings.stall_periods)
    if not rows:
        st.info(_(EMPTY_MESSAGE))
        return
    for row in rows:
        if row.alert:
            st.error(f"{plain_markdown(row.collector)}: {plain_markdown(row.alert)}", icon=":material/error:")
    st.dataframe(collectors_frame(rows), hide_index=True, width="stretch")


require("collectors.view")
st.header(_("Collectors"))
collectors_view()
