"""A desk user's own language: what the desk shows them in (None: MD_DESK_LANGUAGE)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from core.db.models_desk import DeskUser
from core.i18n import LANGUAGES, normalise
from desk.services import audit
from desk.services.auth import Actor


def set_user_language(session: Session, actor: Actor, language: str | None) -> str | None:
    """The signed-in user chooses their language (None: the desk's default); the value stored.
    Does not commit."""
    chosen = normalise(language)
    if language and chosen is None:
        raise ValueError(f"no such language: {language!r} (one of {', '.join(LANGUAGES)})")
    user = session.get(DeskUser, actor.username)
    if user is None:
        raise LookupError(f"no user {actor.username!r}")
    if user.language != chosen:
        user.language = chosen
        audit.record(session, actor.username, "language", None, language=chosen or "default")
    return chosen


def user_language(session: Session, username: str) -> str | None:
    user = session.get(DeskUser, username)
    return None if user is None else normalise(user.language)
