"""Business-time clocks, as pure functions on a BusinessCalendar (no database, no streamlit).

- First response: due the same business day (by the end of the working day) when the post comes
  on a business day before the cut-off; otherwise the next business morning (`morning_due`).
- Status update: every `update_every_h` business hours while the case is open.
- Resolution: `resolution_days` business days (of working hours) after the clock starts.
A clock starts at the customer's message; waiting on the customer pauses it; a new customer
message after an answer starts a new cycle (see desk.services.sync).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from typing import Any
from zoneinfo import ZoneInfo

_MAX_DAYS = 800  # a calendar without working days would loop forever

Period = tuple[time, time]


def _hhmm(value: time) -> str:
    return value.strftime("%H:%M")


@dataclass(frozen=True, slots=True)
class BusinessCalendar:
    """When the desk works, as a pure value.

    A day is a working day when, in this order of precedence: the admin made it one
    (`working_days`), the admin made it a day off (`holidays`), the production calendar makes it a
    working weekend day (`official_working_days`) or a day off (`official_days_off`, incl. moved
    days off), else its weekday is in `workdays`. The `official_*` sets are filled from the
    `holidays` package by desk.services.production_calendar (for the country in `country`) when the
    calendar is loaded, and are never stored: a newer package brings newer decrees.
    A working day has one or more working `periods` (e.g. 09:00-13:00 and 14:00-18:00 around a
    lunch break); `day_start`/`day_end` are the first period's start and the last one's end.
    """

    tz: str = "Europe/Moscow"
    workdays: tuple[int, ...] = (0, 1, 2, 3, 4)  # Monday = 0
    day_start: time = time(9, 0)
    day_end: time = time(18, 0)
    cutoff: time = time(18, 0)
    morning_due: time = time(12, 0)
    holidays: frozenset[date] = field(default_factory=frozenset)  # the admin's days off
    update_every_h: float = 4.0
    resolution_days: int = 2
    periods: tuple[Period, ...] = ()  # empty: one period, day_start to day_end
    working_days: frozenset[date] = field(default_factory=frozenset)  # the admin's working days
    country: str | None = "RU"  # the production calendar pre-filled from `holidays`; None: none
    official_days_off: frozenset[date] = field(default_factory=frozenset)
    official_working_days: frozenset[date] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        ZoneInfo(self.tz)  # raises on an unknown zone
        if not self.workdays and not self.working_days and not self.official_working_days:
            raise ValueError("a business calendar needs at least one working day")
        periods = tuple(sorted(self.periods)) or ((self.day_start, self.day_end),)
        for start, end in periods:
            if not start < end:
                raise ValueError(f"a working period must start before it ends ({_hhmm(start)}-{_hhmm(end)})")
        for (_, end), (start, _) in pairwise(periods):
            if start < end:
                raise ValueError(f"working periods overlap ({_hhmm(start)} is before {_hhmm(end)})")
        both = self.holidays & self.working_days
        if both:
            raise ValueError(f"both a day off and a working day: {min(both).isoformat()}")
        object.__setattr__(self, "periods", periods)
        object.__setattr__(self, "day_start", periods[0][0])
        object.__setattr__(self, "day_end", periods[-1][1])

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.tz)

    @property
    def day_hours(self) -> float:
        """Working hours in one working day (all periods)."""
        day = date(2000, 1, 3)
        return sum(
            (datetime.combine(day, end) - datetime.combine(day, start)).total_seconds() / 3600
            for start, end in self.periods
        )

    def is_business_day(self, day: date) -> bool:
        if day in self.working_days:
            return True
        if day in self.holidays:
            return False
        if day in self.official_working_days:
            return True
        if day in self.official_days_off:
            return False
        return day.weekday() in self.workdays

    def next_business_day(self, day: date) -> date:
        for _ in range(_MAX_DAYS):
            day += timedelta(days=1)
            if self.is_business_day(day):
                return day
        raise ValueError("no business day ahead: check the calendar")

    def at(self, day: date, clock: time) -> datetime:
        """A local wall-clock time as UTC."""
        return datetime.combine(day, clock, tzinfo=self.zone).astimezone(UTC)

    def open_spans(self, day: date) -> list[tuple[datetime, datetime]]:
        """The working periods of a local day as aware local datetimes (none on a day off)."""
        if not self.is_business_day(day):
            return []
        zone = self.zone
        return [
            (datetime.combine(day, start, tzinfo=zone), datetime.combine(day, end, tzinfo=zone))
            for start, end in self.periods
        ]

    def to_json(self) -> dict[str, Any]:
        """What is stored (the official days are not: they come from the package at load)."""
        return {
            "tz": self.tz,
            "workdays": list(self.workdays),
            "day_start": _hhmm(self.day_start),
            "day_end": _hhmm(self.day_end),
            "periods": [[_hhmm(start), _hhmm(end)] for start, end in self.periods],
            "cutoff": _hhmm(self.cutoff),
            "morning_due": _hhmm(self.morning_due),
            "holidays": sorted(d.isoformat() for d in self.holidays),
            "working_days": sorted(d.isoformat() for d in self.working_days),
            "country": self.country,
            "update_every_h": self.update_every_h,
            "resolution_days": self.resolution_days,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> BusinessCalendar:
        """Reads what to_json wrote, and calendars stored before periods, working days and the
        production calendar existed (those get one period and the default country's calendar)."""
        default = cls()
        periods = tuple(
            (time.fromisoformat(start), time.fromisoformat(end)) for start, end in data.get("periods") or ()
        )
        return cls(
            tz=str(data.get("tz", default.tz)),
            workdays=tuple(int(d) for d in data.get("workdays", default.workdays)),
            day_start=time.fromisoformat(data.get("day_start", "09:00")),
            day_end=time.fromisoformat(data.get("day_end", "18:00")),
            periods=periods,
            cutoff=time.fromisoformat(data.get("cutoff", "18:00")),
            morning_due=time.fromisoformat(data.get("morning_due", "12:00")),
            holidays=frozenset(date.fromisoformat(d) for d in data.get("holidays", [])),
            working_days=frozenset(date.fromisoformat(d) for d in data.get("working_days", [])),
            country=data.get("country", default.country) or None,
            update_every_h=float(data.get("update_every_h", default.update_every_h)),
            resolution_days=int(data.get("resolution_days", default.resolution_days)),
        )


@dataclass(frozen=True, slots=True)
class CalendarBook:
    """The desk's calendar and the brands' own ones (a brand without one works by the desk's)."""

    desk: BusinessCalendar
    brands: dict[str, BusinessCalendar] = field(default_factory=dict)  # keys: brand names, lower case

    def for_brand(self, brand: str | None) -> BusinessCalendar:
        if brand is None:
            return self.desk
        return self.brands.get(brand.strip().lower(), self.desk)


def first_response_due(calendar: BusinessCalendar, posted_at: datetime) -> datetime:
    local = posted_at.astimezone(calendar.zone)
    day = local.date()
    if calendar.is_business_day(day) and local.time() < calendar.cutoff:
        return calendar.at(day, max(calendar.day_end, calendar.cutoff))
    return calendar.at(calendar.next_business_day(day), calendar.morning_due)


def add_business_hours(calendar: BusinessCalendar, start: datetime, hours: float) -> datetime:
    """`start` plus `hours` of working time (nights, days off and breaks do not count)."""
    remaining = timedelta(hours=hours)
    local = start.astimezone(calendar.zone)
    day, cursor = local.date(), local
    for _ in range(_MAX_DAYS):
        for open_at, close_at in calendar.open_spans(day):
            begin = max(cursor, open_at)
            if begin < close_at:
                available = close_at - begin
                if available >= remaining:
                    return (begin + remaining).astimezone(UTC)
                remaining -= available
        day += timedelta(days=1)
        cursor = datetime.combine(day, time(0, 0), tzinfo=calendar.zone)
    raise ValueError("no working time ahead: check the calendar")


def business_hours_between(calendar: BusinessCalendar, start: datetime, end: datetime) -> float:
    """Working hours from `start` to `end` (0 when end is not after start)."""
    if end <= start:
        return 0.0
    total = timedelta(0)
    local_end = end.astimezone(calendar.zone)
    day, cursor = start.astimezone(calendar.zone).date(), start.astimezone(calendar.zone)
    while day <= local_end.date():
        for open_at, close_at in calendar.open_spans(day):
            begin, finish = max(cursor, open_at), min(local_end, close_at)
            if finish > begin:
                total += finish - begin
        day += timedelta(days=1)
        cursor = datetime.combine(day, time(0, 0), tzinfo=calendar.zone)
    return total.total_seconds() / 3600


def status_update_due(calendar: BusinessCalendar, last_update: datetime) -> datetime:
    return add_business_hours(calendar, last_update, calendar.update_every_h)


def resolution_due(calendar: BusinessCalendar, started_at: datetime) -> datetime:
    return add_business_hours(calendar, started_at, calendar.resolution_days * calendar.day_hours)


@dataclass(frozen=True, slots=True)
class ClockState:
    clock: str  # first_response, status_update, resolution
    state: str  # running, hit, missed, paused, off
    due_at: datetime | None


def clock_states(
    *,
    status: str,
    now: datetime,
    first_response_due: datetime | None,
    first_response_at: datetime | None,
    update_due: datetime | None,
    resolution_due: datetime | None,
    resolved: bool = False,
) -> list[ClockState]:
    """The three clocks of a case as the desk shows them. Waiting on the customer pauses what runs;
    a resolved or closed case stops them."""
    paused = status == "waiting"
    stopped = status in ("resolved", "closed") or resolved

    def state(due: datetime | None, done_at: datetime | None) -> str:
        if due is None:
            return "off"
        if done_at is not None:
            return "hit" if done_at <= due else "missed"
        if stopped:
            return "off"
        if paused:
            return "paused"
        return "missed" if now > due else "running"

    first = state(first_response_due, first_response_at)
    update = "off" if first_response_at is None or stopped else state(update_due, None)
    return [
        ClockState("first_response", first, first_response_due),
        ClockState("status_update", update, update_due if update != "off" else None),
        ClockState("resolution", "off" if stopped else state(resolution_due, None), resolution_due),
    ]


# ---------------------------------------------------------------- priority

NEGATIVITY_HEAD_START_H = 6.0
REACH_HEAD_START_H = 3.0  # at a million followers
RATING_HEAD_START_H = 3.0  # at the lowest rating


def head_start(negativity: float, reach: int, rating: float | None) -> timedelta:
    """How much earlier than its clock a case is treated: angrier, louder, worse-rated first."""
    hours = NEGATIVITY_HEAD_START_H * min(max(negativity, 0.0), 1.0)
    hours += REACH_HEAD_START_H * min(math.log10(max(reach, 0) + 1) / 6, 1.0)
    if rating is not None:
        scale = 10.0 if rating > 5 else 5.0
        hours += RATING_HEAD_START_H * max(scale - rating, 0.0) / (scale - 1)
    return timedelta(hours=hours)


def rank_at(
    next_due: datetime | None, negativity: float, reach: int, rating: float | None
) -> datetime | None:
    """Priority as an effective deadline (earlier = more urgent); None takes a case off the queue order.

    Clock urgency, negativity, reach and rating in one comparable, time-independent value: ordering
    by it equals ordering by "time left on the clock minus a head start", at any moment.
    """
    if next_due is None:
        return None
    return next_due - head_start(negativity, reach, rating)
