"""When a signed-in desk session ends: after a while without user action, and a fixed time after
sign-in however active it is. Pure: the clock is an argument."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from core.i18n import _


@dataclass(frozen=True, slots=True)
class SessionLimits:
    idle: timedelta = timedelta(minutes=30)
    lifetime: timedelta = timedelta(hours=12)


def expiry_reason(
    signed_in_at: datetime, active_at: datetime, now: datetime, limits: SessionLimits
) -> str | None:
    """Why the session is over (shown to the user), or None while it is valid."""
    if now - signed_in_at >= limits.lifetime:
        return _("Your session reached its time limit; please sign in again.")
    if now - active_at >= limits.idle:
        return _("You were signed out after a period of inactivity; please sign in again.")
    return None
