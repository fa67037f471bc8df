"""CSAT, NPS and response rate from survey records, grouped as the KPI page, digest and reports need.

Interface shared by the survey workflow and the reports. Definitions (pure functions, no database):

- **asked**: surveys posted; **answered**: surveys the customer replied to (`answered_at` set), read
  or not; **response rate** = answered / asked, a share 0..1 (None when nothing was asked).
- **CSAT** is a *share* 0..1: CSAT answers of 4 or 5 over all CSAT answers (1-5). None without any
  CSAT answer. The default target 0.90 means "90% of answers are 4-5".
- **NPS** is in *points* -100..100: percent promoters (9-10) minus percent detractors (0-6) among NPS
  answers; passives are 7-8. None without any NPS answer. The default target is 44.0 points.
- **low scores**: answers with CSAT <= 3 or NPS <= 6 (one survey counted once), what opens a
  follow-up task.
An answer the reader could not score (answered, no score yet) counts as answered and in no score.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Final, Literal
from zoneinfo import ZoneInfo

CSAT_TARGET: Final = 0.90
"""Default CSAT target: a share (0..1) of answers 4-5; a brand may set its own."""
NPS_TARGET: Final = 44.0
"""Default NPS target in points (-100..100); a brand may set its own."""
CSAT_GOOD: Final = 4
"""A CSAT answer at or above this counts as satisfied."""
LOW_CSAT: Final = 3
PROMOTER: Final = 9
DETRACTOR_MAX: Final = 6
NO_VALUE: Final = "(none)"
"""The group of records with no agent or team."""

GroupKey = Literal["agent", "team", "brand", "source", "day", "week"]


@dataclass(frozen=True, slots=True)
class SurveyRecord:
    """One survey asked (and maybe answered). Scores: csat 1-5, nps 0-10, None when not given."""

    survey_id: int
    thread_id: int
    brand: str
    source: str
    agent: str | None
    team: str | None
    asked_at: datetime
    answered_at: datetime | None
    csat: int | None
    nps: int | None


@dataclass(frozen=True, slots=True)
class SatisfactionFigures:
    """The figures of a set of surveys. `csat` and `response_rate` are shares 0..1, `nps` is points."""

    asked: int
    answered: int
    response_rate: float | None
    csat_responses: int
    csat: float | None
    nps_responses: int
    promoters: int
    passives: int
    detractors: int
    nps: float | None
    low_scores: int


def summarise(records: Sequence[SurveyRecord]) -> SatisfactionFigures:
    """CSAT, NPS, response rate and low scores of `records` (see the module's definitions)."""
    asked = len(records)
    answered = sum(r.answered_at is not None for r in records)
    csat_scores = [r.csat for r in records if r.csat is not None]
    nps_scores = [r.nps for r in records if r.nps is not None]
    promoters = sum(score >= PROMOTER for score in nps_scores)
    detractors = sum(score <= DETRACTOR_MAX for score in nps_scores)
    satisfied = sum(score >= CSAT_GOOD for score in csat_scores)
    low = sum(
        (r.csat is not None and r.csat <= LOW_CSAT) or (r.nps is not None and r.nps <= DETRACTOR_MAX)
        for r in records
    )
    return SatisfactionFigures(
        asked=asked,
        answered=answered,
        response_rate=answered / asked if asked else None,
        csat_responses=len(csat_scores),
        csat=satisfied / len(csat_scores) if csat_scores else None,
        nps_responses=len(nps_scores),
        promoters=promoters,
        passives=len(nps_scores) - promoters - detractors,
        detractors=detractors,
        nps=100.0 * (promoters - detractors) / len(nps_scores) if nps_scores else None,
        low_scores=low,
    )


def summarise_by(
    records: Sequence[SurveyRecord], key: GroupKey, zone: ZoneInfo
) -> dict[str, SatisfactionFigures]:
    """The figures per agent, team, brand, source, day or week, ordered by the group's name.

    `day` is the ISO date the survey was asked on in `zone` ("2026-11-23"); `week` its ISO week in
    `zone` ("2026-W48"). Records with no agent or team fall in the group `NO_VALUE`.
    """
    label = _labeller(key, zone)
    groups: dict[str, list[SurveyRecord]] = defaultdict(list)
    for record in records:
        groups[label(record)].append(record)
    return {name: summarise(groups[name]) for name in sorted(groups)}


def meets_target(value: float | None, target: float) -> bool | None:
    """Whether a CSAT share or NPS reaches its target (equal counts as met); None without a value."""
    return None if value is None else value >= target


def _labeller(key: GroupKey, zone: ZoneInfo) -> Callable[[SurveyRecord], str]:
    if key == "day":
        return lambda r: _local(r.asked_at, zone).date().isoformat()
    if key == "week":

        def week(r: SurveyRecord) -> str:
            iso = _local(r.asked_at, zone).isocalendar()
            return f"{iso.year}-W{iso.week:02d}"

        return week
    if key == "agent":
        return lambda r: r.agent or NO_VALUE
    if key == "team":
        return lambda r: r.team or NO_VALUE
    if key == "brand":
        return lambda r: r.brand
    if key == "source":
        return lambda r: r.source
    raise ValueError(f"unknown grouping: {key!r}")


def _local(at: datetime, zone: ZoneInfo) -> datetime:
    if at.tzinfo is None:
        raise ValueError("survey times must be timezone-aware (UTC)")
    return at.astimezone(zone)
