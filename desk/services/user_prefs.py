"""A desk user's own settings: away (routing gives them no new threads) and where notices reach
them besides the desk (e-mail, Telegram chat). Stored in `desk_user_prefs`, one row per user
created on first change."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.db.models_desk import DeskUser
from core.db.models_notices import DeskUserPrefs
from core.i18n import _
from desk.services import audit
from desk.services.auth import Actor, PermissionDenied

_EMAIL = re.compile(r"^[^@\s,;<>]+@[^@\s,;<>]+\.[^@\s,;<>]+$")
_CHAT_ID = re.compile(r"^(-?\d{1,20}|@[A-Za-z0-9_]{5,32})$")


def _row(session: Session, username: str) -> DeskUserPrefs:
    row = session.get(DeskUserPrefs, username)
    if row is None:
        if session.get(DeskUser, username) is None:
            raise LookupError(f"no user {username!r}")
        row = DeskUserPrefs(username=username, away=False, updated_at=datetime.now(UTC))
        session.add(row)
    return row


def prefs(session: Session, username: str) -> DeskUserPrefs | None:
    return session.get(DeskUserPrefs, username)


def is_away(session: Session, username: str) -> bool:
    row = session.get(DeskUserPrefs, username)
    return bool(row is not None and row.away)


def away_users(session: Session) -> set[str]:
    return set(session.scalars(select(DeskUserPrefs.username).where(DeskUserPrefs.away.is_(True))))


def set_away(session: Session, actor: Actor, away: bool, now: datetime | None = None) -> None:
    """The signed-in user marks themselves away or back (does not commit)."""
    now = now or datetime.now(UTC)
    row = _row(session, actor.username)
    if bool(row.away) == away:
        return
    row.away = away
    row.away_since = now if away else None
    row.updated_at = now
    audit.record(session, actor.username, "away" if away else "back", None, at=now)


def set_contacts(
    session: Session, actor: Actor, username: str, *, email: str | None, telegram_chat_id: str | None
) -> None:
    """Where `username`'s notices go besides the desk: their own, or any user's for an admin."""
    if actor.username != username and not actor.can("admin.edit"):
        raise PermissionDenied(
            _("{user} may not change the contacts of {other}").format(user=actor.username, other=username)
        )
    email = (email or "").strip() or None
    chat = (telegram_chat_id or "").strip() or None
    if email is not None and (len(email) > 255 or not _EMAIL.match(email)):
        raise ValueError(_("not an e-mail address: {email!r}").format(email=email))
    if chat is not None and not _CHAT_ID.match(chat):
        raise ValueError(_("a Telegram chat id is a number (or @channel name)"))
    row = _row(session, username)
    row.email = email
    row.telegram_chat_id = chat
    row.updated_at = datetime.now(UTC)
    audit.record(session, actor.username, "contacts", None, user=username)
