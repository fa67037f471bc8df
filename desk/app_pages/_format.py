"""Small text formats shared by the pages."""

from datetime import datetime, timedelta

QUEUE_EMPTY = "No threads here: the queue is empty."


def format_age(age: timedelta) -> str:
    """A short age like '2d 3h', '4h 05m' or '12m'."""
    minutes = int(age.total_seconds() // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes:02d}m"
    return f"{minutes}m"


def format_left(left: timedelta | None) -> str:
    """Time left on a clock: '3h 10m', or 'overdue 25m'."""
    if left is None:
        return ""
    if left < timedelta(0):
        return f"overdue {format_age(-left)}"
    return format_age(left)


def when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if value else ""
