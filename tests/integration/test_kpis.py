"""KPI figures on the fixture day equal the values computed by hand (tests/analytics_fixture.py)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.orm import Session

from core.db.engine import make_engine, make_session_factory, migrate
from desk.services.kpis import Period, kpi_records, kpi_table
from tests.analytics_fixture import CALENDAR, DAY, NOW, load_fixture_day


@pytest.fixture
def session(database_url: str) -> Session:  # type: ignore[misc]
    migrate(database_url)
    engine = make_engine(database_url)
    with make_session_factory(engine)() as s:
        load_fixture_day(s)
        s.commit()
        yield s
    engine.dispose()


PERIOD = Period(DAY, DAY + timedelta(days=1))


def test_overall_kpis_equal_the_hand_computed_values(session: Session) -> None:
    [row] = kpi_table(session, PERIOD, NOW, calendar=CALENDAR)
    k = row.kpis
    assert k.cases == 5  # A B C D E; F began the day before
    # Customer mentions a1 a3 b1 b3 c1 d1 e1; negative (>= 0.5): a1 b1 b3 d1 e1.
    assert (k.customer_mentions, k.negative_mentions) == (7, 5)
    assert k.negative_share == pytest.approx(5 / 7)
    # Answered A B D E; judged also C (unanswered, due 18:00, past by NOW). Timely: A, D, E.
    assert (k.answered, k.judged, k.timely, k.missed) == (4, 5, 3, 2)
    assert k.timely_share == pytest.approx(0.6)
    # Business hours: A 09:00->10:30 = 1.5; B 10:00->19:00 = 8 (work ends 18:00); D 0.5;
    # E 19:00 -> next day 09:30 = 0.5.
    assert k.frt_mean_h == pytest.approx((1.5 + 8 + 0.5 + 0.5) / 4)
    assert k.frt_median_h == pytest.approx(1.0)
    # Clock events of the day: updates hit, hit, missed; resolution hit (E's miss is next day).
    assert (k.update_hits, k.update_misses) == (2, 1)
    assert k.update_hit_share == pytest.approx(2 / 3)
    assert (k.resolution_hits, k.resolution_misses, k.resolution_share) == (1, 0, 1.0)
    # Resolved D and E; D had one answer and no customer message after it; E had two answers.
    assert (k.resolved, k.fcr, k.fcr_share) == (2, 1, 0.5)
    # Came back after the answer: A (0.9 -> 0.2, won back) and B (0.8 -> 0.95, not).
    assert (k.came_back, k.won_back, k.won_back_share) == (2, 1, 0.5)
    assert (k.compensations, k.compensation_value) == (2, 700.0)


def test_kpis_per_agent_team_and_source(session: Session) -> None:
    by_agent = {r.group: r.kpis for r in kpi_table(session, PERIOD, NOW, by="agent", calendar=CALENDAR)}
    assert set(by_agent) == {"alice", "bob"}
    assert (by_agent["alice"].cases, by_agent["alice"].timely, by_agent["alice"].judged) == (3, 2, 3)
    assert (by_agent["bob"].cases, by_agent["bob"].timely, by_agent["bob"].judged) == (2, 1, 2)
    assert by_agent["alice"].compensation_value == 500.0
    assert (by_agent["alice"].update_hits, by_agent["bob"].update_misses) == (2, 1)
    by_team = {r.group: r.kpis.cases for r in kpi_table(session, PERIOD, NOW, by="team", calendar=CALENDAR)}
    assert by_team == {"care": 2, "(none)": 3}
    by_source = {r.group: r.kpis for r in kpi_table(session, PERIOD, NOW, by="source", calendar=CALENDAR)}
    assert (by_source["vk"].cases, by_source["twitter"].cases, by_source["twitter"].fcr) == (4, 1, 1)
    records = kpi_records(kpi_table(session, PERIOD, NOW, by="day", calendar=CALENDAR), "day")
    assert records[0]["day"] == "2026-01-05" and records[0]["cases"] == 5
