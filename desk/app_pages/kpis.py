"""KPIs (managers): the service figures of desk.services.kpis per agent, team, source or day; CSV."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pandas as pd
import streamlit as st

from desk.app_pages._analytics import require_analytics
from desk.app_pages._resources import session_factory
from desk.services.export import safe_cell
from desk.services.kpis import KPI_LABELS, Period, kpi_records, kpi_table

require_analytics()
st.header("KPIs")
today = datetime.now(UTC).date()
c1, c2, c3 = st.columns(3)
start_day = c1.date_input("From", value=today - timedelta(days=6), key="kpi_from")
end_day = c2.date_input("To", value=today, key="kpi_to")
by = c3.selectbox("Per", ["agent", "team", "source", "day", "brand"], key="kpi_by")
period = Period(
    datetime.combine(start_day, time(0), tzinfo=UTC),
    datetime.combine(end_day, time(0), tzinfo=UTC) + timedelta(days=1),
)
now = datetime.now(UTC)
with session_factory()() as session:
    [overall] = kpi_table(session, period, now)
    rows = kpi_table(session, period, now, by=by)

k = overall.kpis
if not k.cases:
    st.info("No cases in this period.")
    st.stop()


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{value:.0%}"


m = st.columns(5)
m[0].metric("Cases", k.cases)
m[1].metric("Timely first responses", _pct(k.timely_share))
m[2].metric("First response, median (h)", "–" if k.frt_median_h is None else f"{k.frt_median_h:.1f}")
m[3].metric("Missed", k.missed)
m[4].metric("Won back", _pct(k.won_back_share))
frame = pd.DataFrame(kpi_records(rows, by))
st.dataframe(frame.rename(columns=KPI_LABELS), hide_index=True, width="stretch")
st.download_button(
    "Download CSV",
    frame.map(safe_cell).to_csv(index=False).encode("utf-8"),  # names starting with = stay text
    file_name=f"kpis-by-{by}.csv",
    mime="text/csv",
)
st.caption("Definitions: see desk/services/kpis.py and the README (KPIs).")
