"""What the admin page's calendar editor needs: breaks to working periods and back, day lists,
the production calendar as a table. (The page shows and collects; the rules live here.)"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date, time

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.db.models import Thread
from core.i18n import _, format_date
from desk.services.calendar_store import brand_calendar_names
from desk.services.clocks import BusinessCalendar, Period
from desk.services.production_calendar import check_country, official_days

_SPAN = re.compile(r"^\s*(\d{1,2}:\d{2})\s*[-–]\s*(\d{1,2}:\d{2})\s*$")


def parse_spans(text: str) -> list[Period]:
    """'13:00-14:00, 16:00-16:15' -> [(13:00, 14:00), (16:00, 16:15)]."""
    spans = []
    for part in re.split(r"[,;\n]", text):
        if not part.strip():
            continue
        found = _SPAN.match(part)
        if found is None:
            raise ValueError(_("not a time span (HH:MM-HH:MM): {part!r}").format(part=part.strip()))
        start, end = (time.fromisoformat(x.zfill(5)) for x in found.groups())
        if not start < end:
            raise ValueError(_("a span must start before it ends: {part!r}").format(part=part.strip()))
        spans.append((start, end))
    return sorted(spans)


def periods_with_breaks(day_start: time, day_end: time, breaks: list[Period]) -> tuple[Period, ...]:
    """The working day cut by its breaks into working periods."""
    if not day_start < day_end:
        raise ValueError(_("the working day must start before it ends"))
    periods: list[Period] = []
    cursor = day_start
    for start, end in breaks:
        if start < cursor or end > day_end:
            raise ValueError(
                _("a break must lie inside the day, apart from the others ({start})").format(
                    start=f"{start:%H:%M}"
                )
            )
        if start > cursor:
            periods.append((cursor, start))
        cursor = end
    if cursor < day_end:
        periods.append((cursor, day_end))
    if not periods:
        raise ValueError(_("the breaks leave no working time"))
    return tuple(periods)


def breaks_text(calendar: BusinessCalendar) -> str:
    """The gaps between a calendar's working periods, as the editor shows them."""
    gaps = zip(calendar.periods, calendar.periods[1:], strict=False)
    return ", ".join(f"{a[1]:%H:%M}-{b[0]:%H:%M}" for a, b in gaps)


def parse_days(text: str) -> frozenset[date]:
    """Dates, one a line (or separated by commas): YYYY-MM-DD."""
    days = set()
    for part in re.split(r"[,;\s]+", text):
        if part:
            try:
                days.add(date.fromisoformat(part))
            except ValueError as exc:
                raise ValueError(_("not a date (YYYY-MM-DD): {part!r}").format(part=part)) from exc
    return frozenset(days)


def days_text(days: frozenset[date]) -> str:
    return "\n".join(sorted(d.isoformat() for d in days))


def edited_calendar(  # noqa: PLR0917  (one argument per field of the editor)
    base: BusinessCalendar,
    tz: str,
    country: str,
    workdays: list[int],
    day_start: time,
    day_end: time,
    breaks: str,
    cutoff: time,
    morning_due: time,
    update_every_h: float,
    resolution_days: int,
    days_off: str,
    working_days: str,
) -> BusinessCalendar:
    """The calendar the editor's fields describe (ValueError with the reason when they do not)."""
    code = country.strip().upper() or None
    if code is not None:
        check_country(code)
    return replace(
        base,
        tz=tz.strip(),
        country=code,
        workdays=tuple(sorted(workdays)),
        periods=periods_with_breaks(day_start, day_end, parse_spans(breaks)),
        cutoff=cutoff,
        morning_due=morning_due,
        update_every_h=float(update_every_h),
        resolution_days=int(resolution_days),
        holidays=parse_days(days_off),
        working_days=parse_days(working_days),
        official_days_off=frozenset(),
        official_working_days=frozenset(),
    )


def official_rows(calendar: BusinessCalendar, years: tuple[int, ...]) -> list[dict[str, str]]:
    """The production calendar's days for `years` and what the admin's overrides make of them."""
    if calendar.country is None:
        return []
    days = official_days(calendar.country, years)
    rows = []
    for day in sorted(days.days_off | days.working_days):
        official = _("working day") if day in days.working_days else _("day off")
        rows.append(
            {
                _("Date"): day.isoformat(),
                _("Weekday"): format_date(day, "EEE"),
                _("Official"): official,
                _("What"): days.names.get(day) or _("working weekend day"),
                _("In force"): _("working day") if calendar.is_business_day(day) else _("day off"),
            }
        )
    return rows


def calendar_brands(session: Session) -> list[str]:
    """Brands the editor offers: those seen on threads and those with a calendar of their own."""
    names = {b.lower(): b for b in brand_calendar_names(session)}
    seen = session.scalars(select(Thread.brand).distinct())
    names.update({b.strip().lower(): b.strip() for b in seen if b and b.strip()})
    return sorted(names.values(), key=str.lower)
