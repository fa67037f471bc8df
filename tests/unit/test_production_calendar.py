"""The production calendar's cases from the issue, worked out by hand (Moscow, Mon-Fri 9-18).

The official days come from the `holidays` package (Russia: the New Year holidays 1-8 January,
31 December 2026 a day off moved from Sunday 4 January 2026, Saturday 20 February 2027 a working
day that moves its day off to Monday 22 February)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from desk.services.calendar_edit import breaks_text, parse_spans, periods_with_breaks
from desk.services.clocks import (
    BusinessCalendar,
    CalendarBook,
    add_business_hours,
    business_hours_between,
    first_response_due,
    resolution_due,
    status_update_due,
)
from desk.services.production_calendar import official_days, prefill_years, with_production

MSK = ZoneInfo("Europe/Moscow")
YEARS = (2026, 2027)
DESK = with_production(
    BusinessCalendar(tz="Europe/Moscow", cutoff=time(18, 0), morning_due=time(12, 0)), YEARS
)
LUNCH = with_production(
    BusinessCalendar(tz="Europe/Moscow", periods=((time(9, 0), time(13, 0)), (time(14, 0), time(18, 0)))),
    YEARS,
)


def msk(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=MSK).astimezone(UTC)


def test_the_package_has_the_moved_days_of_2026_and_2027() -> None:
    days = official_days("RU", YEARS)
    assert date(2026, 12, 31) in days.days_off  # a Thursday, moved from Sunday 4 January 2026
    assert {date(2027, 1, d) for d in range(1, 9)} <= days.days_off
    assert date(2027, 2, 20) in days.working_days and date(2027, 2, 22) in days.days_off
    assert date(2027, 2, 20).weekday() == 5


def test_a_post_on_30_december_after_the_cutoff_is_due_on_11_january() -> None:
    posted = msk(2026, 12, 30, 18, 30)  # Wednesday, half an hour after the cut-off
    due = first_response_due(DESK, posted)
    assert due == msk(2027, 1, 11, 12, 0)  # Monday, the next-morning deadline
    assert due.astimezone(MSK).weekday() == 0
    # without the production calendar it would have been due the next morning, 31 December
    assert first_response_due(BusinessCalendar(tz="Europe/Moscow"), posted) == msk(2026, 12, 31, 12, 0)
    # 31 December 2026 is a day off of its own (a Thursday): a post that morning waits too
    assert first_response_due(DESK, msk(2026, 12, 31, 10, 0)) == msk(2027, 1, 11, 12, 0)


def test_saturday_20_february_2027_is_a_working_day() -> None:
    assert DESK.is_business_day(date(2027, 2, 20))
    assert not DESK.is_business_day(date(2027, 2, 22))  # the moved day off
    assert first_response_due(DESK, msk(2027, 2, 20, 10, 0)) == msk(2027, 2, 20, 18, 0)
    # Friday evening: the next business morning is that Saturday, not Monday or Tuesday
    assert first_response_due(DESK, msk(2027, 2, 19, 19, 0)) == msk(2027, 2, 20, 12, 0)
    # the working Saturday counts in business hours; the moved Monday and the 23rd do not
    assert business_hours_between(DESK, msk(2027, 2, 19, 9, 0), msk(2027, 2, 24, 9, 0)) == 18.0


def test_a_message_in_the_lunch_break_is_due_after_the_break() -> None:
    in_break = msk(2026, 12, 2, 13, 20)  # Wednesday, during 13:00-14:00
    assert LUNCH.day_hours == 8.0
    assert add_business_hours(LUNCH, in_break, 1) == msk(2026, 12, 2, 15, 0)  # counted from 14:00
    assert status_update_due(LUNCH, in_break) == msk(2026, 12, 2, 18, 0)  # 4 business hours
    assert first_response_due(LUNCH, in_break) == msk(2026, 12, 2, 18, 0)
    # before the break: two hours run 12:00-13:00 and 14:00-15:00
    assert add_business_hours(LUNCH, msk(2026, 12, 2, 12, 0), 2) == msk(2026, 12, 2, 15, 0)
    assert business_hours_between(LUNCH, msk(2026, 12, 2, 12, 0), msk(2026, 12, 2, 15, 0)) == 2.0
    # a single-period day counts the lunch hour
    assert add_business_hours(DESK, msk(2026, 12, 2, 12, 0), 2) == msk(2026, 12, 2, 14, 0)
    # resolution: two working days of 8 hours from 14:00: Wed 4 h, Thu 8 h, Fri 9:00-13:00
    assert resolution_due(LUNCH, msk(2026, 12, 2, 13, 30)) == msk(2026, 12, 4, 13, 0)


def test_admin_overrides_win_over_the_production_calendar() -> None:
    override = with_production(
        BusinessCalendar(
            tz="Europe/Moscow",
            working_days=frozenset({date(2026, 12, 31)}),  # the desk works on the 31st after all
            holidays=frozenset({date(2027, 2, 20)}),  # and not on the working Saturday
        ),
        YEARS,
    )
    assert override.is_business_day(date(2026, 12, 31))
    assert first_response_due(override, msk(2026, 12, 30, 18, 30)) == msk(2026, 12, 31, 12, 0)
    assert not override.is_business_day(date(2027, 2, 20))
    with pytest.raises(ValueError, match="both a day off and a working day"):
        BusinessCalendar(holidays=frozenset({date(2027, 1, 4)}), working_days=frozenset({date(2027, 1, 4)}))


def test_a_brand_with_its_own_calendar_runs_its_own_clocks() -> None:
    # a brand answering in Yekaterinburg, seven days a week, without the production calendar
    shop = BusinessCalendar(tz="Asia/Yekaterinburg", workdays=(0, 1, 2, 3, 4, 5, 6), country=None)
    book = CalendarBook(desk=DESK, brands={"shop": shop})
    posted = msk(2026, 12, 30, 18, 30)  # 20:30 in Yekaterinburg
    assert book.for_brand("Shop") is shop and book.for_brand("other") is DESK and book.for_brand(None) is DESK
    assert first_response_due(book.for_brand("other"), posted) == msk(2027, 1, 11, 12, 0)
    ekb = ZoneInfo("Asia/Yekaterinburg")
    assert first_response_due(book.for_brand("shop"), posted) == datetime(2026, 12, 31, 12, 0, tzinfo=ekb)


def test_breaks_make_working_periods_and_stored_calendars_still_load() -> None:
    periods = periods_with_breaks(time(9, 0), time(18, 0), parse_spans("13:00-14:00"))
    assert periods == ((time(9, 0), time(13, 0)), (time(14, 0), time(18, 0)))
    assert breaks_text(BusinessCalendar(periods=periods)) == "13:00-14:00"
    with pytest.raises(ValueError):
        periods_with_breaks(time(9, 0), time(18, 0), parse_spans("17:00-19:00"))
    with pytest.raises(ValueError, match="overlap"):
        BusinessCalendar(periods=((time(9, 0), time(13, 0)), (time(12, 0), time(18, 0))))
    # a calendar stored before periods, working days and the production calendar existed
    old = {"tz": "Europe/Moscow", "workdays": [0, 1, 2, 3, 4], "day_start": "10:00", "day_end": "19:00",
           "cutoff": "18:00", "morning_due": "12:00", "holidays": ["2026-11-05"], "update_every_h": 4.0,
           "resolution_days": 2}  # fmt: skip
    loaded = BusinessCalendar.from_json(old)
    assert loaded.periods == ((time(10, 0), time(19, 0)),) and loaded.country == "RU"
    assert loaded.holidays == frozenset({date(2026, 11, 5)})
    assert BusinessCalendar.from_json(LUNCH.to_json()) == BusinessCalendar(
        tz="Europe/Moscow", periods=LUNCH.periods
    )
    assert "official_days_off" not in LUNCH.to_json()


def test_prefill_covers_the_current_and_next_year() -> None:
    assert prefill_years(date(2026, 12, 1)) == (2025, 2026, 2027)
