"""KPIs (managers): the service figures of desk.services.kpis per agent, team, source or day; CSV."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pandas as pd
import streamlit as st

from core.i18n import N_, _, format_decimal, format_percent
from desk.app_pages._analytics import require_analytics
from desk.app_pages._resources import page_zone, session_factory
from desk.app_pages._satisfaction import satisfaction_panel
from desk.app_pages._targets import targets_panel
from desk.services.desk_time import days_bounds
from desk.services.export import safe_cell
from desk.services.kpis import KPI_LABELS, Period, kpi_records, kpi_table
from desk.services.survey_kpis import COLUMNS as SATISFACTION_COLUMNS
from desk.services.survey_kpis import with_satisfaction

GROUPS = {
    "agent": N_("agent"),
    "team": N_("team"),
    "source": N_("source"),
    "day": N_("day"),
    "brand": N_("brand"),
}

require_analytics()
st.header(_("KPIs"))
zone = page_zone()  # days are the desk's local days
today = datetime.now(zone).date()
c1, c2, c3 = st.columns(3)
start_day = c1.date_input(_("From"), value=today - timedelta(days=6), key="kpi_from")
end_day = c2.date_input(_("To"), value=today, key="kpi_to")
by = c3.selectbox(_("Per"), list(GROUPS), format_func=lambda g: _(GROUPS[g]), key="kpi_by")
period = Period(*days_bounds(start_day, end_day, zone))
now = datetime.now(UTC)
with session_factory()() as session:
    [overall] = kpi_table(session, period, now)
    rows = kpi_table(session, period, now, by=by)

k = overall.kpis
if not k.cases:
    st.info(_("No cases in this period."))
    st.stop()


def _pct(value: float | None) -> str:
    return "–" if value is None else format_percent(value, 0)


def _hours(value: float | None) -> str:
    return "–" if value is None else format_decimal(value, 1)


m = st.columns(5)
m[0].metric(_("Cases"), k.cases)
m[1].metric(_("Timely first responses"), _pct(k.timely_share))
m[2].metric(_("First response, median (h)"), _hours(k.frt_median_h))
m[3].metric(_("Missed"), k.missed)
m[4].metric(_("Won back"), _pct(k.won_back_share))
r = st.columns(5)
r[0].metric(_("Time to resolve, mean (business h)"), _hours(k.ttr_mean_h))
r[1].metric(_("Time to resolve, median (business h)"), _hours(k.ttr_median_h))
with session_factory()() as session:
    targets_panel(session, period, now, k)  # each figure green or red against the brands' targets
with session_factory()() as session:  # the customer's verdict: CSAT, NPS, response rate
    satisfaction = satisfaction_panel(session, period, zone, by)
frame = pd.DataFrame(with_satisfaction(kpi_records(rows, by), satisfaction, by))
shown_names = {by: _(GROUPS[by])} | {
    n: _(label) for n, label in {**KPI_LABELS, **SATISFACTION_COLUMNS}.items()
}
st.dataframe(frame.rename(columns=shown_names), hide_index=True, width="stretch")
st.download_button(
    _("Download CSV"),
    frame.map(safe_cell).to_csv(index=False).encode("utf-8"),  # names starting with = stay text
    file_name=f"kpis-by-{by}.csv",
    mime="text/csv",
)
st.caption(
    _("Days in {zone}. Definitions: see desk/services/kpis.py and the README (KPIs).").format(zone=zone.key)
)
