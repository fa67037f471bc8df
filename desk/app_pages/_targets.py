"""The KPI page's targets panel: each figure green (target met) or red (missed), overall and per
brand (UI only; the verdicts come from desk.services.targets)."""

from __future__ import annotations

from datetime import datetime

import pandas as pd
import streamlit as st
from sqlalchemy.orm import Session

from core.i18n import _, _p, format_percent
from core.settings import get_settings
from desk.services.kpis import Kpis, Period, kpi_table
from desk.services.targets import TargetCheck, judge, load_targets, overall_targets, targets_for, verdict


def _pct(value: float | None) -> str:
    return "–" if value is None else format_percent(value, 1)


def _line(check: TargetCheck) -> str:
    figure = _pct(check.value)
    shown = figure if check.met is None else f":{'green' if check.met else 'red'}[**{figure}**]"
    return _("{kpi}: {figure} (target {target}, {verdict})").format(
        kpi=check.label, figure=shown, target=_pct(check.target), verdict=verdict(check)
    )


def _style(frame: pd.DataFrame) -> pd.io.formats.style.Styler:
    colours = {_p("target", "met"): "color: #1f9d55", _p("target", "missed"): "color: #e12d39"}

    def colour(value: object) -> str:
        return colours.get(str(value), "")

    return frame.style.map(colour, subset=[_("Verdict")])


def targets_panel(session: Session, period: Period, now: datetime, overall: Kpis) -> None:
    targets = load_targets(get_settings())
    st.subheader(_("Targets"))
    for check in judge(overall, overall_targets(targets)):
        st.markdown(_line(check))
    if len(targets) > 1:
        records = []
        for row in kpi_table(session, period, now, by="brand"):
            for check in judge(row.kpis, targets_for(targets, None if row.group == "(none)" else row.group)):
                records.append(
                    {
                        _("Brand"): row.group,
                        _("KPI"): check.label,
                        _("Figure"): _pct(check.value),
                        _("Target"): _pct(check.target),
                        _("Verdict"): verdict(check),
                    }
                )
        if records:
            st.dataframe(_style(pd.DataFrame(records)), hide_index=True, width="stretch")
    st.caption(_("Targets: `[brands.targets]` in the brands config; all brands together meet the strictest."))
