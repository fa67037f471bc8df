"""Trends (managers): volume and negative share over time by source, brand and topic; hour of day;
spikes marked; drill-down to the threads. Mention text is shown only in st.dataframe (untrusted)."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import altair as alt
import pandas as pd
import streamlit as st

from core.db.alerts import alerts_between, undelivered_alerts
from desk.app_pages._analytics import require_analytics
from desk.app_pages._resources import session_factory
from desk.services.trends import hour_of_day, mention_frame, over_time

require_analytics()
st.header("Trends")
today = datetime.now(UTC).date()
c1, c2, c3 = st.columns(3)
start_day = c1.date_input("From", value=today - timedelta(days=6), key="trends_from")
end_day = c2.date_input("To", value=today, key="trends_to")
by = c3.selectbox("By", ["source", "brand", "topic"], key="trends_by")
start = datetime.combine(start_day, time(0), tzinfo=UTC)
end = datetime.combine(end_day, time(0), tzinfo=UTC) + timedelta(days=1)

with session_factory()() as session:
    frame = mention_frame(session, start, end)
    spikes = alerts_between(session, start, end)
    undelivered = undelivered_alerts(session, start, end)

if undelivered:
    # Delivery errors come from the network: shown in a table (plain text), never as Markdown.
    st.warning(
        f"{len(undelivered)} spike alerts of this period did not reach the webhook or the e-mail.",
        icon=":material/notifications_off:",
    )
    st.dataframe(
        pd.DataFrame(
            {
                "Window (UTC)": [a.window_start for a in undelivered],
                "Brand": [a.brand or "" for a in undelivered],
                "Source": [a.source or "" for a in undelivered],
                "Topic": [a.topic or "" for a in undelivered],
                "Webhook": [a.webhook_status or "" for a in undelivered],
                "E-mail": [a.email_status or "" for a in undelivered],
            }
        ),
        hide_index=True,
        width="stretch",
        key="trends_undelivered",
    )

if frame.empty:
    st.info("No mentions in this period.")
    st.stop()

freq = "15min" if end - start <= timedelta(days=2) else "1h"
series = over_time(frame, by, freq)
st.caption(f"{len(frame)} customer mentions, {int(frame['negative'].sum())} negative, {len(spikes)} spikes.")
spike_frame = pd.DataFrame(
    {"bucket": [s.window_start for s in spikes], "brand": [s.brand or "" for s in spikes]}
)
volume = alt.Chart(series).mark_bar().encode(x="bucket:T", y="mentions:Q", color=f"{by}:N")
share = alt.Chart(series).mark_line(point=True).encode(x="bucket:T", y="negative_share:Q", color=f"{by}:N")
marks = alt.Chart(spike_frame).mark_rule(color="red", strokeWidth=2).encode(x="bucket:T", tooltip=["brand"])
st.altair_chart((volume + marks).properties(title="Mentions", height=220), width="stretch")
st.altair_chart((share + marks).properties(title="Negative share", height=220), width="stretch")
hours = hour_of_day(frame)
st.altair_chart(
    alt.Chart(hours)
    .mark_bar()
    .encode(x="hour:O", y="mentions:Q", color="negative_share:Q")
    .properties(title="Hour of day (UTC)", height=180),
    width="stretch",
)

st.subheader("Drill down")
values = sorted({t for ts in frame["topics"] for t in ts}) if by == "topic" else sorted(frame[by].unique())
chosen = st.selectbox(f"Threads of {by}", values, key="trends_drill")
mask = frame["topics"].apply(lambda ts: chosen in ts) if by == "topic" else frame[by] == chosen
st.dataframe(
    frame[mask].sort_values("negativity", ascending=False)[
        ["created_at", "source", "brand", "negativity", "status", "thread", "text"]
    ],
    hide_index=True,
    width="stretch",
)
