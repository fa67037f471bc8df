"""The desk's time zone: what the pages show times in and where KPI, trend and digest days are cut.

MD_DESK_TIMEZONE when set, else the zone of the desk's business calendar (Europe/Moscow unless
the admin changed it). Times are stored in UTC everywhere; only showing and day-cutting are local.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from core.db.models_desk import DeskSetting
from core.settings import DEFAULT_DESK_ZONE, Settings, get_settings
from desk.services.calendar_store import CALENDAR_KEY


def zone_name(calendar_tz: str | None = None) -> str:
    """The desk's zone given the desk calendar's zone (the setting wins)."""
    return get_settings().desk_timezone or calendar_tz or DEFAULT_DESK_ZONE


def desk_zone(session: Session | None = None, settings: Settings | None = None) -> ZoneInfo:
    """The desk's zone; with a session the stored desk calendar's zone is the fallback."""
    settings = settings or get_settings()
    if settings.desk_timezone:
        return ZoneInfo(settings.desk_timezone)
    calendar_tz = None
    if session is not None:
        row = session.get(DeskSetting, CALENDAR_KEY)
        if row is not None and row.value.get("tz"):
            calendar_tz = str(row.value["tz"])
    return ZoneInfo(calendar_tz or DEFAULT_DESK_ZONE)


def local_day(at: datetime, zone: ZoneInfo) -> date:
    return at.astimezone(zone).date()


def day_start(day: date, zone: ZoneInfo) -> datetime:
    """Local midnight starting `day`, in UTC."""
    return datetime.combine(day, time(0, 0), tzinfo=zone).astimezone(UTC)


def days_bounds(first: date, last: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """[start of `first`, start of the day after `last`) in UTC, local days."""
    return day_start(first, zone), day_start(last + timedelta(days=1), zone)


def show(value: datetime | None, zone: ZoneInfo) -> str:
    """A time as people at the desk read it: '2026-12-30 18:30 MSK'."""
    if value is None:
        return ""
    local = value.astimezone(zone)
    return f"{local:%Y-%m-%d %H:%M} {local.tzname() or zone.key}"


def export_time(value: datetime | None, zone: ZoneInfo) -> str:
    """A time for an export: ISO 8601 with the zone's offset ('2026-12-30T18:30:00+03:00')."""
    return "" if value is None else value.astimezone(zone).isoformat(timespec="seconds")


def digest_zone(session: Session | None = None, settings: Settings | None = None) -> str:
    """The zone of the digest's day: MD_DIGEST_TIMEZONE, else the desk's zone."""
    settings = settings or get_settings()
    return settings.digest_timezone or desk_zone(session, settings).key
