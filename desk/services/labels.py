"""What the desk calls its codes in the reader's language: thread statuses, reply statuses,
roles, clocks, sentiment labels, survey statuses, compensation kinds. The database and the wire keep
the English codes; only what is shown goes through here. A code without a label is shown as it is."""

from __future__ import annotations

from typing import Final

from core.i18n import N_, _, _n

THREAD_STATUSES: Final = {
    "new": N_("new"),
    "open": N_("open"),
    "waiting": N_("waiting for customer"),
    "resolved": N_("resolved"),
    "closed": N_("closed"),
}
REPLY_STATUSES: Final = {
    "queued": N_("queued"),
    "sending": N_("sending"),
    "sent": N_("sent"),
    "failed": N_("failed"),
    "manual": N_("to post by hand"),
}
# English shows the role codes themselves, as the CLI and the brands config write them
ROLES: Final = {
    "agent": N_("agent"),
    "manager": N_("manager"),
    "brand_lead": N_("brand_lead"),
    "admin": N_("admin"),
}
CLOCKS: Final = {
    "first_response": N_("first response"),
    "status_update": N_("status update"),
    "resolution": N_("resolution"),
}
CLOCK_STATES: Final = {
    "running": N_("running"),
    "hit": N_("hit"),
    "missed": N_("missed"),
    "paused": N_("paused"),
    "off": N_("off"),
}
SENTIMENTS: Final = {
    "negative": N_("negative"),
    "neutral": N_("neutral"),
    "positive": N_("positive"),
}
SURVEY_STATUSES: Final = {
    "asked": N_("asked"),
    "answered": N_("answered"),
    "unreadable": N_("unreadable"),
    "expired": N_("expired"),
}
COMPENSATIONS: Final = {
    "promo_code": N_("promo code"),
    "bonus": N_("bonus"),
    "refund": N_("refund"),
    "gift": N_("gift"),
    "other": N_("other"),
}


def _shown(table: dict[str, str], code: str | None) -> str:
    if code is None:
        return ""
    source = table.get(code)
    return _(source) if source is not None else code


def thread_status(code: str | None) -> str:
    return _shown(THREAD_STATUSES, code)


def reply_status(code: str | None) -> str:
    return _shown(REPLY_STATUSES, code)


def role(code: str | None) -> str:
    return _shown(ROLES, code)


def clock(code: str | None) -> str:
    return _shown(CLOCKS, code)


def clock_state(code: str | None) -> str:
    return _shown(CLOCK_STATES, code)


def sentiment(code: str | None) -> str:
    return _shown(SENTIMENTS, code)


def survey_status(code: str | None) -> str:
    return _shown(SURVEY_STATUSES, code)


def compensation(code: str | None) -> str:
    return _shown(COMPENSATIONS, code)


def thread_count(n: int) -> str:
    """'1 обращение', '2 обращения', '5 обращений', '21 обращение' (ru); '1 thread', '5 threads'."""
    return _n("{n} thread", "{n} threads", n)
