"""The desk's business calendars, stored as JSON in desk_settings (edited on the admin page).

Key `calendar` holds the desk's calendar; `calendar.brand:<brand in lower case>` a brand's own one
(a full calendar: its zone, periods, overrides, clock targets), for brands that work differently.
A brand without a row works by the desk's. What is stored is the admin's part (the overrides); the
production calendar's official days are filled in from `holidays` each time a calendar is loaded
(desk.services.production_calendar), so calendars stored before it existed load unchanged and get
the official days of their country (Russia when they name none).
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.db.models_desk import DeskSetting
from desk.services.clocks import BusinessCalendar, CalendarBook
from desk.services.production_calendar import prefill_years, with_production

CALENDAR_KEY = "calendar"
BRAND_PREFIX = "calendar.brand:"


def _brand_key(brand: str) -> str:
    name = brand.strip()
    if not name:
        raise ValueError("a brand calendar needs the brand's name")
    return BRAND_PREFIX + name.lower()


def _stored(session: Session, key: str) -> BusinessCalendar | None:
    row = session.get(DeskSetting, key)
    return None if row is None else BusinessCalendar.from_json(row.value)


def load_calendar(session: Session, brand: str | None = None, today: date | None = None) -> BusinessCalendar:
    """The calendar in force for `brand` (None: the desk's), official days filled in."""
    own = _stored(session, _brand_key(brand)) if brand and brand.strip() else None
    calendar = own or _stored(session, CALENDAR_KEY) or BusinessCalendar()
    return with_production(calendar, prefill_years(today))


def load_own_calendar(session: Session, brand: str) -> BusinessCalendar | None:
    """A brand's own calendar as stored (without official days), None when it uses the desk's."""
    return _stored(session, _brand_key(brand))


def brand_calendar_names(session: Session) -> list[str]:
    """Brands that have a calendar of their own, as their names were entered."""
    rows = session.scalars(select(DeskSetting).where(DeskSetting.key.startswith(BRAND_PREFIX)))
    return sorted(str(r.value.get("brand") or r.key.removeprefix(BRAND_PREFIX)) for r in rows)


def load_calendars(session: Session, today: date | None = None) -> CalendarBook:
    """The desk's calendar and every brand's own one, official days filled in."""
    years = prefill_years(today)
    desk = with_production(_stored(session, CALENDAR_KEY) or BusinessCalendar(), years)
    brands: dict[str, BusinessCalendar] = {}
    for row in session.scalars(select(DeskSetting).where(DeskSetting.key.startswith(BRAND_PREFIX))):
        own = BusinessCalendar.from_json(row.value)
        brands[row.key.removeprefix(BRAND_PREFIX)] = with_production(own, years)
    return CalendarBook(desk=desk, brands=brands)


def save_calendar(session: Session, calendar: BusinessCalendar, brand: str | None = None) -> None:
    """Store the desk's calendar, or with `brand` that brand's own one."""
    key = _brand_key(brand) if brand is not None else CALENDAR_KEY
    value = calendar.to_json()
    if brand is not None:
        value["brand"] = brand.strip()
    row = session.get(DeskSetting, key)
    if row is None:
        session.add(DeskSetting(key=key, value=value, updated_at=datetime.now(UTC)))
    else:
        row.value = value
        row.updated_at = datetime.now(UTC)


def delete_brand_calendar(session: Session, brand: str) -> bool:
    """The brand goes back to the desk's calendar; returns whether it had its own."""
    row = session.get(DeskSetting, _brand_key(brand))
    if row is None:
        return False
    session.delete(row)
    return True
