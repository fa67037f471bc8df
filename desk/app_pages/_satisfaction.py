"""The KPI page's customer-satisfaction panel: CSAT, NPS and survey response rate of the period,
green or red against the targets, and per group (UI only; figures from desk.services.survey_kpis)."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import streamlit as st
from sqlalchemy.orm import Session

from core.i18n import N_, _, format_percent
from core.settings import get_settings
from desk.services.kpis import Period
from desk.services.survey_kpis import DIMENSIONS, SatisfactionRow, satisfaction_table
from desk.services.targets import load_targets

SATISFACTION_HEADER = N_("Customer satisfaction")


def _pct(value: float | None) -> str:
    return "–" if value is None else format_percent(value, 0)


def _verdict(met: bool | None) -> str:
    return "" if met is None else (_("target met") if met else _("below target"))


def satisfaction_panel(
    session: Session, period: Period, zone: ZoneInfo, by: str | None
) -> list[SatisfactionRow]:
    """Draw the overall figures; return the rows per `by` (for the table and the CSV)."""
    targets = load_targets(get_settings())
    [overall] = satisfaction_table(session, period.start, period.end, zone=zone, targets=targets)
    st.subheader(_(SATISFACTION_HEADER))
    f = overall.figures
    if not f.asked:
        st.caption(
            _("No satisfaction surveys were asked in this period (`[brands.survey]` in the brands config).")
        )
    else:
        c = st.columns(4)
        c[0].metric(
            "CSAT",
            _pct(f.csat),
            _verdict(overall.csat_met) or None,
            delta_color="normal" if overall.csat_met else "inverse",
            help=_("share of answers 4-5; target {target}").format(target=_pct(overall.csat_target)),
        )
        c[1].metric(
            "NPS",
            "–" if f.nps is None else f"{f.nps:.0f}",
            _verdict(overall.nps_met) or None,
            delta_color="normal" if overall.nps_met else "inverse",
            help=_("promoters minus detractors, points; target {target}").format(
                target=f"{overall.nps_target:.0f}"
            ),
        )
        c[2].metric(_("Survey response rate"), _pct(f.response_rate))
        c[3].metric(_("Low scores"), f.low_scores)
    if by is None or by not in DIMENSIONS:
        return [overall]
    return satisfaction_table(session, period.start, period.end, zone=zone, targets=targets, by=by)
