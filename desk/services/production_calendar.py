"""The production calendar (days off, moved days off, working weekend days) from the `holidays` package.

`holidays` carries each country's public holidays and, for Russia, the government's yearly decree
on moved days off: e.g. for 2026 it has 31 December as a day off moved from Sunday 4 January, and for
2027 Monday 22 February as a day off moved from Saturday 20 February, which becomes a working day
(`weekend_workdays`). Both cases the desk relies on are in holidays 0.108, so no supplement table is
needed; a decree the package does not have yet goes in as the admin's override (a day off or a
working day) on the admin page.

The calendar is pre-filled for the previous, current and next year (the previous one so the KPIs
of last December do not change on 1 January).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from datetime import UTC, date, datetime
from functools import lru_cache

import holidays

from desk.services.clocks import BusinessCalendar


@dataclasses.dataclass(frozen=True, slots=True)
class OfficialDays:
    days_off: frozenset[date]  # public holidays and moved days off (weekend ones included)
    working_days: frozenset[date]  # weekend days made working days by a decree
    names: dict[date, str]  # what each day off is, in English


def prefill_years(today: date | None = None) -> tuple[int, ...]:
    year = (today or datetime.now(UTC).date()).year
    return (year - 1, year, year + 1)


def check_country(country: str) -> None:
    """Raise ValueError when `holidays` has no calendar for the code."""
    if country.upper() not in holidays.list_supported_countries():
        raise ValueError(f"no production calendar for country code {country!r}")


@lru_cache(maxsize=32)
def _official(country: str, years: tuple[int, ...]) -> OfficialDays:
    check_country(country)
    calendar = holidays.country_holidays(country.upper(), years=years, language="en_US")
    return OfficialDays(
        days_off=frozenset(calendar.keys()),
        working_days=frozenset(getattr(calendar, "weekend_workdays", set())),
        names={day: str(name) for day, name in calendar.items()},
    )


def official_days(country: str, years: Iterable[int]) -> OfficialDays:
    return _official(country.upper(), tuple(sorted(set(years))))


def with_production(calendar: BusinessCalendar, years: Iterable[int]) -> BusinessCalendar:
    """The calendar with its country's official days off and working days for `years` filled in."""
    if calendar.country is None:
        return dataclasses.replace(calendar, official_days_off=frozenset(), official_working_days=frozenset())
    days = official_days(calendar.country, years)
    return dataclasses.replace(
        calendar, official_days_off=days.days_off, official_working_days=days.working_days
    )
