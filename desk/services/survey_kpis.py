"""Customer satisfaction beside the service KPIs: CSAT, NPS and response rate of the surveys asked in
a period, overall or per agent, team, brand, source or day, each against its target (`[brands.targets]`
csat and nps; a brand's own target for its row, the strictest of the brands elsewhere). Used by the
KPI page and its CSV, and by the daily digest's satisfaction line. Definitions:
desk.services.satisfaction.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Final, cast
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from core.brands import Targets
from core.i18n import N_, _
from desk.services.satisfaction import GroupKey, SatisfactionFigures, meets_target, summarise, summarise_by
from desk.services.survey_records import load_survey_records
from desk.services.targets import overall_targets, targets_for

DIMENSIONS: Final = ("agent", "team", "brand", "source", "day", "week")
COLUMNS: Final = {
    "surveys_asked": N_("Surveys asked"),
    "surveys_answered": N_("Surveys answered"),
    "response_rate": N_("Survey response rate"),
    "csat": N_("CSAT"),
    "csat_target": N_("CSAT target"),
    "csat_met": N_("CSAT met"),
    "nps": N_("NPS"),
    "nps_target": N_("NPS target"),
    "nps_met": N_("NPS met"),
    "low_scores": N_("Low scores"),
}


@dataclass(frozen=True, slots=True)
class SatisfactionRow:
    group: str  # the dimension's value ("" = all)
    figures: SatisfactionFigures
    csat_target: float
    nps_target: float

    @property
    def csat_met(self) -> bool | None:
        return meets_target(self.figures.csat, self.csat_target)

    @property
    def nps_met(self) -> bool | None:
        return meets_target(self.figures.nps, self.nps_target)


def satisfaction_table(
    session: Session,
    start: datetime,
    end: datetime,
    *,
    zone: ZoneInfo,
    targets: Mapping[str, Targets],
    by: str | None = None,
) -> list[SatisfactionRow]:
    """The figures of the surveys asked in [start, end), overall (by=None) or per group."""
    records = load_survey_records(session, start, end)
    overall = overall_targets(targets)
    if by is None:
        return [SatisfactionRow("", summarise(records), overall.csat, overall.nps)]
    if by not in DIMENSIONS:
        raise ValueError(f"unknown dimension {by!r}: expected one of {', '.join(DIMENSIONS)}")
    rows = []
    for group, figures in summarise_by(records, cast(GroupKey, by), zone).items():
        goal = targets_for(targets, group) if by == "brand" else overall
        rows.append(SatisfactionRow(group, figures, goal.csat, goal.nps))
    return rows


def satisfaction_record(row: SatisfactionRow) -> dict[str, object]:
    f = row.figures
    return {
        "surveys_asked": f.asked,
        "surveys_answered": f.answered,
        "response_rate": f.response_rate,
        "csat": f.csat,
        "csat_target": row.csat_target,
        "csat_met": row.csat_met,
        "nps": f.nps,
        "nps_target": row.nps_target,
        "nps_met": row.nps_met,
        "low_scores": f.low_scores,
    }


def with_satisfaction(
    kpi_records: Sequence[Mapping[str, object]], rows: Sequence[SatisfactionRow], dimension: str | None
) -> list[dict[str, object]]:
    """The KPI rows (kpis.kpi_records) with each group's survey figures added, and a row for every
    group that had surveys and no case in the period (its KPI cells empty)."""
    column = dimension or "scope"
    by_group = {row.group or "all": satisfaction_record(row) for row in rows}
    empty = dict.fromkeys(COLUMNS)
    out = []
    kpi_columns: list[str] = list(kpi_records[0]) if kpi_records else [column]
    for record in kpi_records:
        group = str(record[column])
        out.append({**record, **by_group.pop(group, empty)})
    for group, figures in by_group.items():
        out.append({**dict.fromkeys(kpi_columns), column: group, **figures})
    return out


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{value:.0%}"


def summary_line(row: SatisfactionRow) -> str:
    """One line for the digest: "CSAT 92% (target 90%) · NPS 45 (target 44) · response rate 38% (19
    of 50 surveys answered)"."""
    f = row.figures
    nps = "–" if f.nps is None else f"{f.nps:.0f}"
    return _(
        "CSAT {csat} (target {csat_target}) · NPS {nps} (target {nps_target})"
        " · response rate {rate} ({answered} of {asked} surveys answered)"
    ).format(
        csat=_pct(f.csat),
        csat_target=_pct(row.csat_target),
        nps=nps,
        nps_target=f"{row.nps_target:.0f}",
        rate=_pct(f.response_rate),
        answered=f.answered,
        asked=f.asked,
    )
