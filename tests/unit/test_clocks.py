"""Business-time clocks checked by hand against a calendar (Moscow, Mon-Fri 9-18, cut-off 18:00)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from desk.services.clocks import (
    BusinessCalendar,
    add_business_hours,
    business_hours_between,
    clock_states,
    first_response_due,
    rank_at,
    resolution_due,
    status_update_due,
)

MSK = ZoneInfo("Europe/Moscow")
CAL = BusinessCalendar(tz="Europe/Moscow", cutoff=time(18, 0), morning_due=time(12, 0), update_every_h=4)


def msk(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=MSK).astimezone(UTC)


def test_friday_evening_after_cutoff_is_due_monday_morning() -> None:
    due = first_response_due(CAL, msk(2026, 11, 20, 19, 30))  # a Friday
    local = due.astimezone(MSK)
    assert local.date() == date(2026, 11, 23) and local.weekday() == 0
    assert local.time() == time(12, 0)
    assert due.tzinfo is not None


def test_weekday_before_cutoff_is_due_the_same_day() -> None:
    assert first_response_due(CAL, msk(2026, 11, 17, 10, 15)) == msk(2026, 11, 17, 18, 0)
    assert first_response_due(CAL, msk(2026, 11, 17, 7, 0)) == msk(2026, 11, 17, 18, 0)  # before opening


def test_weekend_and_holiday_move_to_the_next_business_morning() -> None:
    holiday = BusinessCalendar(tz="Europe/Moscow", holidays=frozenset({date(2026, 11, 23)}))
    assert first_response_due(holiday, msk(2026, 11, 21, 11, 0)) == msk(2026, 11, 24, 12, 0)
    assert first_response_due(CAL, msk(2026, 11, 21, 11, 0)) == msk(2026, 11, 23, 12, 0)


def test_time_zone_is_the_desks() -> None:
    # 16:30 UTC on a Tuesday is 19:30 in Moscow: after the cut-off there, so next morning
    assert first_response_due(CAL, datetime(2026, 11, 17, 16, 30, tzinfo=UTC)) == msk(2026, 11, 18, 12, 0)
    utc_desk = BusinessCalendar(tz="UTC")
    assert first_response_due(utc_desk, datetime(2026, 11, 17, 16, 30, tzinfo=UTC)) == datetime(
        2026, 11, 17, 18, 0, tzinfo=UTC
    )


def test_business_hours_skip_nights_and_weekends() -> None:
    assert add_business_hours(CAL, msk(2026, 11, 20, 16, 0), 4) == msk(2026, 11, 23, 11, 0)
    assert status_update_due(CAL, msk(2026, 11, 17, 10, 0)) == msk(2026, 11, 17, 14, 0)
    assert resolution_due(CAL, msk(2026, 11, 19, 15, 0)) == msk(2026, 11, 23, 15, 0)  # Thu -> Mon
    assert business_hours_between(CAL, msk(2026, 11, 20, 17, 0), msk(2026, 11, 23, 10, 0)) == 2.0


def test_waiting_on_the_customer_pauses_instead_of_breaching() -> None:
    due = msk(2026, 11, 17, 14, 0)
    late = due + timedelta(days=3)
    waiting = clock_states(
        status="waiting",
        now=late,
        first_response_due=msk(2026, 11, 17, 18, 0),
        first_response_at=msk(2026, 11, 17, 10, 0),
        update_due=due,
        resolution_due=due,
    )
    assert [(c.clock, c.state) for c in waiting] == [
        ("first_response", "hit"),
        ("status_update", "paused"),
        ("resolution", "paused"),
    ]
    open_ = clock_states(
        status="open",
        now=late,
        first_response_due=msk(2026, 11, 17, 18, 0),
        first_response_at=None,
        update_due=None,
        resolution_due=due,
    )
    assert [c.state for c in open_] == ["missed", "off", "missed"]


def test_priority_folds_clock_negativity_reach_and_rating() -> None:
    due = msk(2026, 11, 17, 18, 0)
    calm = rank_at(due, 0.1, 10, None)
    angry = rank_at(due, 0.9, 10, None)
    loud = rank_at(due, 0.1, 1_000_000, None)
    bad_review = rank_at(due, 0.1, 10, 1.0)
    sooner = rank_at(due - timedelta(hours=8), 0.1, 10, None)
    assert calm is not None and angry is not None and loud is not None and bad_review is not None
    assert angry < calm and loud < calm and bad_review < calm
    assert sooner is not None and sooner < angry  # a clock running out beats a head start
    assert rank_at(None, 1.0, 10, None) is None


def test_calendar_round_trips_as_json() -> None:
    cal = BusinessCalendar(
        tz="Asia/Almaty", workdays=(0, 1, 2, 3, 4, 5), holidays=frozenset({date(2026, 1, 1)})
    )
    assert BusinessCalendar.from_json(cal.to_json()) == cal
    with pytest.raises(ValueError):
        BusinessCalendar(workdays=())
