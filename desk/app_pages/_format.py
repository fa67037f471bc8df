"""Small text formats shared by the pages."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from core.i18n import N_, _, format_datetime, language
from desk.app_pages._resources import page_zone
from desk.services.desk_time import show

QUEUE_EMPTY = N_("No threads here: the queue is empty.")


def format_age(age: timedelta) -> str:
    """A short age like '2d 3h', '4h 05m' or '12m'."""
    minutes = int(age.total_seconds() // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        return _("{days}d {hours}h").format(days=days, hours=hours)
    if hours:
        return _("{hours}h {minutes:02d}m").format(hours=hours, minutes=minutes)
    return _("{minutes}m").format(minutes=minutes)


def format_left(left: timedelta | None) -> str:
    """Time left on a clock: '3h 10m', or 'overdue 25m'."""
    if left is None:
        return ""
    if left < timedelta(0):
        return _("overdue {age}").format(age=format_age(-left))
    return format_age(left)


def when(value: datetime | None, zone: ZoneInfo | None = None) -> str:
    """A time in the desk's time zone (MD_DESK_TIMEZONE, else the calendar's), e.g. '2026-12-30 18:30 MSK'."""
    if value is None:
        return ""
    zone = zone or page_zone()
    if language() == "en":
        return show(value, zone)
    local = value.astimezone(zone)  # '30 дек. 2026 г., 18:30 MSK'
    return f"{format_datetime(local)} {local.tzname() or zone.key}"
