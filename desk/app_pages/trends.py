"""Trends (managers): volume and negative share over time by source, brand and topic; hour of day;
spikes marked; drill-down to the threads. Mention text is shown only in st.dataframe (untrusted)."""

from __future__ import annotations

from datetime import datetime, timedelta

import altair as alt
import pandas as pd
import streamlit as st

from core.db.alerts import alerts_between, undelivered_alerts
from core.i18n import N_, _, _n
from desk.app_pages._analytics import require_analytics
from desk.app_pages._format import when
from desk.app_pages._resources import page_zone, session_factory
from desk.services.desk_time import days_bounds
from desk.services.labels import thread_status
from desk.services.trends import hour_of_day, mention_frame, over_time

DIMENSIONS = {"source": N_("source"), "brand": N_("brand"), "topic": N_("topic")}

require_analytics()
st.header(_("Trends"))
zone = page_zone()  # days and hours are the desk's local ones
today = datetime.now(zone).date()
c1, c2, c3 = st.columns(3)
start_day = c1.date_input(_("From"), value=today - timedelta(days=6), key="trends_from")
end_day = c2.date_input(_("To"), value=today, key="trends_to")
by = c3.selectbox(_("By"), list(DIMENSIONS), format_func=lambda d: _(DIMENSIONS[d]), key="trends_by")
by_title = _(DIMENSIONS[by])
start, end = days_bounds(start_day, end_day, zone)

with session_factory()() as session:
    frame = mention_frame(session, start, end)
    spikes = alerts_between(session, start, end)
    undelivered = undelivered_alerts(session, start, end)

if undelivered:
    # Delivery errors come from the network: shown in a table (plain text), never as Markdown.
    st.warning(
        _n(
            "{n} spike alert of this period did not reach the webhook or the e-mail.",
            "{n} spike alerts of this period did not reach the webhook or the e-mail.",
            len(undelivered),
        ),
        icon=":material/notifications_off:",
    )
    st.dataframe(
        pd.DataFrame(
            {
                _("Window"): [when(a.window_start, zone) for a in undelivered],
                _("Brand"): [a.brand or "" for a in undelivered],
                _("Source"): [a.source or "" for a in undelivered],
                _("Topic"): [a.topic or "" for a in undelivered],
                _("Webhook"): [a.webhook_status or "" for a in undelivered],
                _("E-mail"): [a.email_status or "" for a in undelivered],
            }
        ),
        hide_index=True,
        width="stretch",
        key="trends_undelivered",
    )

if frame.empty:
    st.info(_("No mentions in this period."))
    st.stop()

freq = "15min" if end - start <= timedelta(days=2) else "1h"
series = over_time(frame, by, freq, zone=zone.key)
st.caption(
    ", ".join(
        (
            _n("{n} customer mention", "{n} customer mentions", len(frame)),
            _n("{n} negative", "{n} negative", int(frame["negative"].sum())),
            _n("{n} spike", "{n} spikes", len(spikes)),
        )
    )
    + "."
)
time_axis = alt.X("bucket:T", title=_("Time"))
legend = alt.Color(f"{by}:N", title=by_title)
spike_frame = pd.DataFrame(
    {"bucket": [s.window_start for s in spikes], "brand": [s.brand or "" for s in spikes]}
)
volume = (
    alt.Chart(series).mark_bar().encode(x=time_axis, y=alt.Y("mentions:Q", title=_("Mentions")), color=legend)
)
share = (
    alt.Chart(series)
    .mark_line(point=True)
    .encode(
        x=time_axis,
        y=alt.Y("negative_share:Q", title=_("Negative share"), axis=alt.Axis(format="%")),
        color=legend,
    )
)
marks = (
    alt.Chart(spike_frame)
    .mark_rule(color="red", strokeWidth=2)
    .encode(x=time_axis, tooltip=[alt.Tooltip("brand", title=_("Brand"))])
)
st.altair_chart((volume + marks).properties(title=_("Mentions"), height=220), width="stretch")
st.altair_chart((share + marks).properties(title=_("Negative share"), height=220), width="stretch")
hours = hour_of_day(frame, zone=zone.key)
st.altair_chart(
    alt.Chart(hours)
    .mark_bar()
    .encode(
        x=alt.X("hour:O", title=_("Hour")),
        y=alt.Y("mentions:Q", title=_("Mentions")),
        color=alt.Color("negative_share:Q", title=_("Negative share")),
    )
    .properties(title=_("Hour of day ({zone})").format(zone=zone.key), height=180),
    width="stretch",
)

st.subheader(_("Drill down"))
values = sorted({t for ts in frame["topics"] for t in ts}) if by == "topic" else sorted(frame[by].unique())
chosen = st.selectbox(_("Threads of {dimension}").format(dimension=by_title), values, key="trends_drill")
mask = frame["topics"].apply(lambda ts: chosen in ts) if by == "topic" else frame[by] == chosen
st.dataframe(
    frame[mask]
    .assign(
        created_at=pd.to_datetime(frame[mask]["created_at"], utc=True).dt.tz_convert(zone.key),
        status=frame[mask]["status"].map(thread_status),
    )
    .sort_values("negativity", ascending=False)[
        ["created_at", "source", "brand", "negativity", "status", "thread", "text"]
    ]
    .rename(
        columns={
            "created_at": _("created"),
            "source": _("source"),
            "brand": _("brand"),
            "negativity": _("negativity"),
            "status": _("status"),
            "thread": _("thread"),
            "text": _("text"),
        }
    ),
    hide_index=True,
    width="stretch",
)
