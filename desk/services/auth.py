"""Desk users and what each role may do: argon2 password hashes, one permission table, one check.

Every page calls `require` before it shows anything, and every service action that changes a case
takes the acting `DeskUser` and calls `check` itself, so a page that forgot cannot open a hole.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.db.models_desk import ROLES, DeskUser

_HASHER: Final = PasswordHasher()
MIN_PASSWORD_LENGTH: Final = 8

# permission -> roles that have it
PERMISSIONS: Final[dict[str, frozenset[str]]] = {
    "queue.view": frozenset(ROLES),
    "thread.view": frozenset(ROLES),
    "thread.reply": frozenset({"agent", "manager", "brand_lead", "admin"}),
    "thread.status": frozenset({"agent", "manager", "brand_lead", "admin"}),
    "thread.note": frozenset(ROLES),
    "thread.compensate": frozenset({"agent", "manager", "brand_lead", "admin"}),
    "thread.merge": frozenset({"agent", "manager", "brand_lead", "admin"}),
    "thread.take": frozenset({"agent", "manager", "brand_lead", "admin"}),
    "thread.assign": frozenset({"manager", "brand_lead", "admin"}),
    "mention.correct": frozenset({"agent", "manager", "brand_lead", "admin"}),
    "collectors.view": frozenset({"manager", "brand_lead", "admin"}),
    "audit.view": frozenset({"manager", "brand_lead", "admin"}),
    "admin.edit": frozenset({"admin"}),
}


class PermissionDenied(PermissionError):
    """The user's role does not allow the action."""


class AuthError(ValueError):
    """A bad user name, password or role."""


@dataclass(frozen=True, slots=True)
class Actor:
    """The signed-in user as services see it."""

    username: str
    role: str
    team: str | None = None

    def can(self, permission: str) -> bool:
        return self.role in PERMISSIONS[permission]


SYSTEM: Final = Actor("system", "admin")


def check(actor: Actor, permission: str) -> None:
    if not actor.can(permission):
        raise PermissionDenied(f"{actor.username} ({actor.role}) may not {permission}")


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AuthError(f"a password needs at least {MIN_PASSWORD_LENGTH} characters")
    return _HASHER.hash(password)


def random_password() -> str:
    return secrets.token_urlsafe(12)


def add_user(
    session: Session,
    username: str,
    password: str,
    role: str,
    *,
    team: str | None = None,
    cap: int = 20,
    display_name: str | None = None,
) -> DeskUser:
    """Create a user (does not commit)."""
    username = username.strip()
    if not username or len(username) > 64:
        raise AuthError("a user name needs 1 to 64 characters")
    if role not in ROLES:
        raise AuthError(f"unknown role {role!r}: one of {', '.join(ROLES)}")
    if session.get(DeskUser, username) is not None:
        raise AuthError(f"user {username!r} exists")
    user = DeskUser(
        username=username,
        password_hash=hash_password(password),
        role=role,
        team=team,
        cap=cap,
        active=True,
        display_name=display_name,
        created_at=datetime.now(UTC),
    )
    session.add(user)
    session.flush()
    return user


def set_active(session: Session, username: str, active: bool) -> None:
    user = session.get(DeskUser, username)
    if user is None:
        raise AuthError(f"no user {username!r}")
    user.active = active


def list_users(session: Session) -> list[DeskUser]:
    return list(session.scalars(select(DeskUser).order_by(DeskUser.username)))


def count_users(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(DeskUser)) or 0)


def authenticate(session: Session, username: str, password: str) -> Actor | None:
    """The user if the password matches and the account is active; None otherwise (no hint which)."""
    user = session.get(DeskUser, username.strip())
    if user is None:
        _HASHER.hash(password or "x" * MIN_PASSWORD_LENGTH)  # same work either way: no user-name oracle
        return None
    try:
        _HASHER.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return None
    if not user.active:
        return None
    if _HASHER.check_needs_rehash(user.password_hash):
        user.password_hash = _HASHER.hash(password)
    user.last_login_at = datetime.now(UTC)
    return Actor(user.username, user.role, user.team)


def load_actor(session: Session, username: str) -> Actor | None:
    """The user behind a signed-in browser session, re-read every run (a disabled user is out)."""
    user = session.get(DeskUser, username)
    if user is None or not user.active:
        return None
    return Actor(user.username, user.role, user.team)
