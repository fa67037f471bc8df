"""The desk's business calendar, stored as JSON in desk_settings (edited on the admin page)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.orm import Session

from core.db.models_desk import DeskSetting
from desk.services.clocks import BusinessCalendar

CALENDAR_KEY = "calendar"


def load_calendar(session: Session) -> BusinessCalendar:
    row = session.get(DeskSetting, CALENDAR_KEY)
    return BusinessCalendar() if row is None else BusinessCalendar.from_json(row.value)


def save_calendar(session: Session, calendar: BusinessCalendar) -> None:
    row = session.get(DeskSetting, CALENDAR_KEY)
    if row is None:
        session.add(DeskSetting(key=CALENDAR_KEY, value=calendar.to_json(), updated_at=datetime.now(UTC)))
    else:
        row.value = calendar.to_json()
