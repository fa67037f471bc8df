"""CSAT, NPS and response rate on a fixture week, against figures computed by hand.

The week: Monday 23 to Sunday 29 November 2026 (ISO week 2026-W48), desk zone Europe/Moscow (UTC+3).
Survey 13 is asked on Sunday 22:30 UTC, which is already Monday 30 November 01:30 in Moscow (2026-W49).

 id  brand   source   agent  team    asked (UTC)        MSK day  answered  csat  nps
  1  acme    vk       anna   care    Mon 23 09:00       23       yes       5     -
  2  acme    vk       anna   care    Mon 23 10:00       23       yes       4     -
  3  acme    twitter  boris  social  Mon 23 12:00       23       no        -     -
  4  globex  vk       boris  social  Tue 24 08:00       24       yes       2     3
  5  globex  twitter  anna   care    Tue 24 15:00       24       yes       -     10
  6  acme    vk       boris  social  Wed 25 09:30       25       yes       3     7
  7  acme    twitter  anna   care    Wed 25 11:00       25       no        -     -
  8  globex  vk       anna   care    Thu 26 07:00       26       yes       5     9
  9  globex  vk       boris  social  Thu 26 13:00       26       yes (unreadable, no score yet)
 10  acme    vk       -      -       Fri 27 10:00       27       yes       1     -
 11  acme    twitter  anna   care    Fri 27 16:00       27       yes       -     9
 12  globex  twitter  boris  social  Sat 28 12:00       28       no        -     -
 13  acme    vk       anna   care    Sun 29 22:30       30 (!)   yes       4     8
 14  globex  vk       boris  social  Sun 29 20:00       29       yes       5     -
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from desk.services.satisfaction import (
    CSAT_TARGET,
    NO_VALUE,
    NPS_TARGET,
    SatisfactionFigures,
    SurveyRecord,
    meets_target,
    summarise,
    summarise_by,
)

MOSCOW = ZoneInfo("Europe/Moscow")


def _record(  # noqa: PLR0917  (one row of the fixture table, positional like its columns)
    survey_id: int,
    brand: str,
    source: str,
    agent: str | None,
    team: str | None,
    asked: tuple[int, int, int],
    answered: bool,
    csat: int | None,
    nps: int | None,
) -> SurveyRecord:
    day, hour, minute = asked
    asked_at = datetime(2026, 11, day, hour, minute, tzinfo=UTC)
    return SurveyRecord(
        survey_id=survey_id,
        thread_id=100 + survey_id,
        brand=brand,
        source=source,
        agent=agent,
        team=team,
        asked_at=asked_at,
        answered_at=asked_at.replace(hour=hour + 1) if answered else None,
        csat=csat,
        nps=nps,
    )


WEEK = [
    _record(1, "acme", "vk", "anna", "care", (23, 9, 0), True, 5, None),
    _record(2, "acme", "vk", "anna", "care", (23, 10, 0), True, 4, None),
    _record(3, "acme", "twitter", "boris", "social", (23, 12, 0), False, None, None),
    _record(4, "globex", "vk", "boris", "social", (24, 8, 0), True, 2, 3),
    _record(5, "globex", "twitter", "anna", "care", (24, 15, 0), True, None, 10),
    _record(6, "acme", "vk", "boris", "social", (25, 9, 30), True, 3, 7),
    _record(7, "acme", "twitter", "anna", "care", (25, 11, 0), False, None, None),
    _record(8, "globex", "vk", "anna", "care", (26, 7, 0), True, 5, 9),
    _record(9, "globex", "vk", "boris", "social", (26, 13, 0), True, None, None),
    _record(10, "acme", "vk", None, None, (27, 10, 0), True, 1, None),
    _record(11, "acme", "twitter", "anna", "care", (27, 16, 0), True, None, 9),
    _record(12, "globex", "twitter", "boris", "social", (28, 12, 0), False, None, None),
    _record(13, "acme", "vk", "anna", "care", (29, 22, 30), True, 4, 8),
    _record(14, "globex", "vk", "boris", "social", (29, 20, 0), True, 5, None),
]


def _figures(  # noqa: PLR0917  (one row of expected figures, positional like the table)
    asked: int,
    answered: int,
    csat_scores: list[int],
    nps_scores: list[int],
    low: int,
    rate: float | None,
    csat: float | None,
    nps: float | None,
) -> SatisfactionFigures:
    """Expected figures, with the derived values written out by hand by the caller."""
    promoters = sum(s >= 9 for s in nps_scores)
    detractors = sum(s <= 6 for s in nps_scores)
    return SatisfactionFigures(
        asked=asked,
        answered=answered,
        response_rate=rate,
        csat_responses=len(csat_scores),
        csat=csat,
        nps_responses=len(nps_scores),
        promoters=promoters,
        passives=len(nps_scores) - promoters - detractors,
        detractors=detractors,
        nps=nps,
        low_scores=low,
    )


def _assert_same(actual: SatisfactionFigures, expected: SatisfactionFigures) -> None:
    assert actual.asked == expected.asked
    assert actual.answered == expected.answered
    assert actual.csat_responses == expected.csat_responses
    assert actual.nps_responses == expected.nps_responses
    assert (actual.promoters, actual.passives, actual.detractors) == (
        expected.promoters,
        expected.passives,
        expected.detractors,
    )
    assert actual.low_scores == expected.low_scores
    for name in ("response_rate", "csat", "nps"):
        want = getattr(expected, name)
        got = getattr(actual, name)
        assert got == (None if want is None else pytest.approx(want)), name


def test_the_week_overall() -> None:
    # asked 14; answered all but 3, 7, 12 -> 11; rate 11/14 = 0.785714
    # CSAT answers 1:5 2:4 4:2 6:3 8:5 10:1 13:4 14:5 -> 8, of them 4-5: 1 2 8 13 14 -> 5/8 = 0.625
    # NPS answers 4:3 5:10 6:7 8:9 11:9 13:8 -> 6; promoters 5 8 11 (3), passives 6 13 (2),
    #   detractors 4 (1) -> 100 * (3 - 1) / 6 = 33.33 points
    # low scores (csat <= 3 or nps <= 6): 4, 6, 10 -> 3
    figures = summarise(WEEK)
    _assert_same(
        figures, _figures(14, 11, [5, 4, 2, 3, 5, 1, 4, 5], [3, 10, 7, 9, 9, 8], 3, 11 / 14, 0.625, 100 / 3)
    )
    assert (figures.promoters, figures.passives, figures.detractors) == (3, 2, 1)
    assert figures.csat == pytest.approx(0.625)
    assert figures.nps == pytest.approx(33.333, abs=0.001)
    assert figures.response_rate == pytest.approx(0.7857, abs=0.0001)


def test_the_week_per_agent_and_team() -> None:
    by_agent = summarise_by(WEEK, "agent", MOSCOW)
    assert list(by_agent) == [NO_VALUE, "anna", "boris"]
    # anna: 1 2 5 7 8 11 13 -> asked 7, answered 6 (not 7) -> 6/7; CSAT 1:5 2:4 8:5 13:4 -> 4/4 = 1.0;
    #   NPS 5:10 8:9 11:9 13:8 -> 3 promoters, 1 passive -> 100 * 3/4 = 75.0; no low score
    _assert_same(by_agent["anna"], _figures(7, 6, [5, 4, 5, 4], [10, 9, 9, 8], 0, 6 / 7, 1.0, 75.0))
    # boris: 3 4 6 9 12 14 -> asked 6, answered 4 6 9 14 -> 4/6; CSAT 4:2 6:3 14:5 -> 1/3;
    #   NPS 4:3 6:7 -> 1 detractor, 1 passive -> -50.0; low 4 and 6 -> 2
    _assert_same(by_agent["boris"], _figures(6, 4, [2, 3, 5], [3, 7], 2, 4 / 6, 1 / 3, -50.0))
    # no agent: 10 -> asked 1, answered 1, CSAT 1 -> 0.0, no NPS answer -> None; low 1
    _assert_same(by_agent[NO_VALUE], _figures(1, 1, [1], [], 1, 1.0, 0.0, None))
    by_team = summarise_by(WEEK, "team", MOSCOW)
    assert by_team == {"care": by_agent["anna"], "social": by_agent["boris"], NO_VALUE: by_agent[NO_VALUE]}


def test_the_week_per_brand_and_source() -> None:
    by_brand = summarise_by(WEEK, "brand", MOSCOW)
    # acme: 1 2 3 6 7 10 11 13 -> asked 8, answered 1 2 6 10 11 13 -> 6/8 = 0.75;
    #   CSAT 5 4 3 1 4 -> 3/5 = 0.6; NPS 6:7 11:9 13:8 -> 1 promoter, 0 detractors -> 33.33; low 6, 10 -> 2
    _assert_same(by_brand["acme"], _figures(8, 6, [5, 4, 3, 1, 4], [7, 9, 8], 2, 0.75, 0.6, 100 / 3))
    # globex: 4 5 8 9 12 14 -> asked 6, answered 4 5 8 9 14 -> 5/6; CSAT 2 5 5 -> 2/3;
    #   NPS 4:3 5:10 8:9 -> 2 promoters, 1 detractor -> 100 * 1/3 = 33.33; low 4 -> 1
    _assert_same(by_brand["globex"], _figures(6, 5, [2, 5, 5], [3, 10, 9], 1, 5 / 6, 2 / 3, 100 / 3))
    by_source = summarise_by(WEEK, "source", MOSCOW)
    # vk: 1 2 4 6 8 9 10 13 14 -> asked 9, all answered -> 1.0; CSAT 5 4 2 3 5 1 4 5 -> 5/8;
    #   NPS 4:3 6:7 8:9 13:8 -> 1 promoter, 1 detractor -> 0.0; low 4 6 10 -> 3
    _assert_same(by_source["vk"], _figures(9, 9, [5, 4, 2, 3, 5, 1, 4, 5], [3, 7, 9, 8], 3, 1.0, 0.625, 0.0))
    # twitter: 3 5 7 11 12 -> asked 5, answered 5 11 -> 2/5; no CSAT answer -> None;
    #   NPS 10 9 -> 2 promoters -> 100.0; no low score
    _assert_same(by_source["twitter"], _figures(5, 2, [], [10, 9], 0, 0.4, None, 100.0))


def test_the_week_per_day_in_the_desk_zone() -> None:
    by_day = summarise_by(WEEK, "day", MOSCOW)
    assert list(by_day) == [f"2026-11-{d}" for d in (23, 24, 25, 26, 27, 28, 29, 30)]
    expected = {
        # 1 2 3: answered 2 of 3; CSAT 5 4 -> 1.0; no NPS
        "2026-11-23": _figures(3, 2, [5, 4], [], 0, 2 / 3, 1.0, None),
        # 4 5: CSAT 2 -> 0.0; NPS 3 10 -> 1 promoter, 1 detractor -> 0.0; low 4
        "2026-11-24": _figures(2, 2, [2], [3, 10], 1, 1.0, 0.0, 0.0),
        # 6 7: answered 1 of 2; CSAT 3 -> 0.0; NPS 7 -> passive -> 0.0; low 6
        "2026-11-25": _figures(2, 1, [3], [7], 1, 0.5, 0.0, 0.0),
        # 8 9: both answered (9 unreadable); CSAT 5 -> 1.0; NPS 9 -> 100.0
        "2026-11-26": _figures(2, 2, [5], [9], 0, 1.0, 1.0, 100.0),
        # 10 11: CSAT 1 -> 0.0; NPS 9 -> 100.0; low 10
        "2026-11-27": _figures(2, 2, [1], [9], 1, 1.0, 0.0, 100.0),
        # 12: asked, not answered -> rate 0.0, no figures
        "2026-11-28": _figures(1, 0, [], [], 0, 0.0, None, None),
        # 14 (23:00 in Moscow): CSAT 5 -> 1.0
        "2026-11-29": _figures(1, 1, [5], [], 0, 1.0, 1.0, None),
        # 13 (Sunday 22:30 UTC = Monday 01:30 in Moscow): CSAT 4 -> 1.0; NPS 8 passive -> 0.0
        "2026-11-30": _figures(1, 1, [4], [8], 0, 1.0, 1.0, 0.0),
    }
    for day, figures in expected.items():
        _assert_same(by_day[day], figures)
    # in UTC survey 13 is still on Sunday
    by_utc_day = summarise_by(WEEK, "day", ZoneInfo("UTC"))
    assert "2026-11-30" not in by_utc_day
    assert by_utc_day["2026-11-29"].asked == 2


def test_the_week_per_iso_week_in_the_desk_zone() -> None:
    by_week = summarise_by(WEEK, "week", MOSCOW)
    assert list(by_week) == ["2026-W48", "2026-W49"]
    # W48: all but 13 -> asked 13, answered 10 -> 10/13; CSAT 5 4 2 3 5 1 5 -> 4/7;
    #   NPS 3 10 7 9 9 -> 3 promoters, 1 passive, 1 detractor -> 100 * 2/5 = 40.0; low 4 6 10 -> 3
    _assert_same(
        by_week["2026-W48"],
        _figures(13, 10, [5, 4, 2, 3, 5, 1, 5], [3, 10, 7, 9, 9], 3, 10 / 13, 4 / 7, 40.0),
    )
    # W49: 13 alone -> CSAT 4 -> 1.0, NPS 8 -> 0.0
    _assert_same(by_week["2026-W49"], _figures(1, 1, [4], [8], 0, 1.0, 1.0, 0.0))
    assert summarise_by(WEEK, "week", ZoneInfo("UTC")).keys() == {"2026-W48"}


def test_no_surveys_and_no_answers_give_no_figures() -> None:
    empty = summarise([])
    assert (empty.asked, empty.answered, empty.response_rate, empty.csat, empty.nps) == (
        0,
        0,
        None,
        None,
        None,
    )
    assert summarise_by([], "agent", MOSCOW) == {}
    unanswered = summarise([r for r in WEEK if r.answered_at is None])
    assert (unanswered.asked, unanswered.response_rate, unanswered.csat, unanswered.nps) == (
        3,
        0.0,
        None,
        None,
    )
    unreadable = summarise([WEEK[8]])  # answered, no score yet
    assert (unreadable.answered, unreadable.csat_responses, unreadable.csat, unreadable.nps) == (
        1,
        0,
        None,
        None,
    )


def test_all_detractors_is_minus_100_and_all_promoters_plus_100() -> None:
    base = WEEK[4]
    detractors = [replace(base, survey_id=i, nps=s) for i, s in enumerate([0, 3, 6])]
    figures = summarise(detractors)
    assert figures.nps == -100.0
    assert (figures.detractors, figures.low_scores) == (3, 3)
    promoters = [replace(base, survey_id=i, nps=s) for i, s in enumerate([9, 10])]
    assert summarise(promoters).nps == 100.0


@pytest.mark.parametrize(
    ("csat", "nps", "satisfied", "kind", "low"),
    [
        (3, None, 0, None, 1),
        (4, None, 1, None, 0),
        (None, 6, 0, "detractor", 1),
        (None, 7, 0, "passive", 0),
        (None, 8, 0, "passive", 0),
        (None, 9, 0, "promoter", 0),
    ],
)
def test_score_boundaries(
    csat: int | None, nps: int | None, satisfied: int, kind: str | None, low: int
) -> None:
    record = SurveyRecord(
        1, 1, "acme", "vk", "anna", "care", WEEK[0].asked_at, WEEK[0].answered_at, csat, nps
    )
    figures = summarise([record])
    if csat is not None:
        assert figures.csat == float(satisfied)
    counts = {"promoter": figures.promoters, "passive": figures.passives, "detractor": figures.detractors}
    if kind is not None:
        assert counts[kind] == 1 and sum(counts.values()) == 1
    assert figures.low_scores == low


def test_targets_csat_as_a_share_nps_in_points() -> None:
    assert (CSAT_TARGET, NPS_TARGET) == (0.90, 44.0)
    assert meets_target(0.90, CSAT_TARGET) is True
    assert meets_target(0.8999, CSAT_TARGET) is False
    assert meets_target(summarise(WEEK).nps, NPS_TARGET) is False  # 33.3 points
    assert meets_target(75.0, NPS_TARGET) is True
    assert meets_target(None, CSAT_TARGET) is None


def test_naive_times_are_refused() -> None:
    naive = SurveyRecord(1, 1, "acme", "vk", None, None, datetime(2026, 11, 23, 9), None, None, None)  # noqa: DTZ001
    with pytest.raises(ValueError, match="timezone-aware"):
        summarise_by([naive], "day", MOSCOW)
