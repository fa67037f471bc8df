"""Desk users and what each role may do: argon2 password hashes, one permission table, one check.

Every page calls `require` before it shows anything, and every service action that changes a case
takes the acting `DeskUser` and calls `check` itself, so a page that forgot cannot open a hole.
"""

from __future__ import annotations

import secrets
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.db.models_desk import ROLES, DeskUser
from core.i18n import N_, _
from desk.services.password_policy import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH, password_problem

# OWASP's argon2id minimum (19 MiB, 2 passes): a sign-in flood cannot take the server's memory.
# Hashes made with the old defaults (64 MiB, 3 passes) still verify and are re-hashed on sign-in.
_HASHER: Final = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)
# at most this many hashes at once per process, whatever the number of browser sessions
_HASH_SLOTS: Final = threading.BoundedSemaphore(2)
_DUMMY_PASSWORD: Final = "x" * MIN_PASSWORD_LENGTH

# permission -> roles that have it
PERMISSIONS: Final[dict[str, frozenset[str]]] = {
    "queue.view": frozenset(ROLES),
    "thread.view": frozenset(ROLES),
    "thread.reply": frozenset({"agent", "manager", "brand_lead", "admin"}),
    "thread.status": frozenset({"agent", "manager", "brand_lead", "admin"}),
    "thread.note": frozenset(ROLES),
    "thread.tag": frozenset({"agent", "manager", "brand_lead", "admin"}),
    "view.share": frozenset({"manager", "admin"}),  # saved queue views shown to everyone
    "thread.compensate": frozenset({"agent", "manager", "brand_lead", "admin"}),
    "thread.merge": frozenset({"agent", "manager", "brand_lead", "admin"}),
    "thread.take": frozenset({"agent", "manager", "brand_lead", "admin"}),
    "thread.assign": frozenset({"manager", "brand_lead", "admin"}),
    "mention.correct": frozenset({"agent", "manager", "brand_lead", "admin"}),
    "collectors.view": frozenset({"manager", "brand_lead", "admin"}),
    "audit.view": frozenset({"manager", "brand_lead", "admin"}),
    "alert.dismiss": frozenset({"manager", "admin"}),  # for everyone; the others hide it for themselves
    "compensation.limits": frozenset({"admin"}),  # the per-brand compensation limits
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
    must_change_password: bool = False
    # sessions signed in before it have ended (see desk.app_pages._session)
    password_changed_at: datetime | None = None
    # the user's own language ("ru", "en"); None: MD_DESK_LANGUAGE
    language: str | None = None

    def can(self, permission: str) -> bool:
        return self.role in PERMISSIONS[permission]


SYSTEM: Final = Actor("system", "admin")
# compared by change_password (desk.services.signin), which counts these failures
WRONG_CURRENT_PASSWORD: Final = N_("the current password is wrong")


def check(actor: Actor, permission: str) -> None:
    if not actor.can(permission):
        raise PermissionDenied(
            _("{user} ({role}) may not {permission}").format(
                user=actor.username, role=actor.role, permission=permission
            )
        )


def hash_password(password: str, username: str | None = None) -> str:
    """The argon2 hash of a password the policy accepts (AuthError says why one is refused)."""
    problem = password_problem(password, username)
    if problem is not None:
        raise AuthError(problem)
    with _HASH_SLOTS:
        return _HASHER.hash(password)


def _verify(password_hash: str, password: str) -> bool:
    with _HASH_SLOTS:
        try:
            return _HASHER.verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            return False


def _equal_work(password: str) -> None:
    """Hash anyway when there is no user to check, so timing tells nothing about user names."""
    with _HASH_SLOTS:
        _HASHER.hash(password[:MAX_PASSWORD_LENGTH] or _DUMMY_PASSWORD)


def random_password() -> str:
    """16 random URL-safe characters that the policy accepts (a draw it refuses is all but impossible)."""
    while True:
        password = secrets.token_urlsafe(12)
        if password_problem(password) is None:
            return password


def add_user(
    session: Session,
    username: str,
    password: str,
    role: str,
    *,
    team: str | None = None,
    cap: int = 20,
    display_name: str | None = None,
    must_change_password: bool = False,
) -> DeskUser:
    """Create a user (does not commit)."""
    username = username.strip()
    if not username or len(username) > 64:
        raise AuthError(_("a user name needs 1 to 64 characters"))
    if role not in ROLES:
        raise AuthError(_("unknown role {role!r}: one of {roles}").format(role=role, roles=", ".join(ROLES)))
    if session.get(DeskUser, username) is not None:
        raise AuthError(_("user {username!r} exists").format(username=username))
    user = DeskUser(
        username=username,
        password_hash=hash_password(password, username),
        role=role,
        team=team,
        cap=cap,
        active=True,
        display_name=display_name,
        must_change_password=must_change_password,
        created_at=datetime.now(UTC),
    )
    session.add(user)
    session.flush()
    return user


def set_active(session: Session, username: str, active: bool) -> None:
    user = session.get(DeskUser, username)
    if user is None:
        raise AuthError(_("no user {username!r}").format(username=username))
    user.active = active


def list_users(session: Session) -> list[DeskUser]:
    return list(session.scalars(select(DeskUser).order_by(DeskUser.username)))


def count_users(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(DeskUser)) or 0)


def set_password(session: Session, username: str, password: str, *, must_change: bool = False) -> None:
    """Set a new password (policy-checked; does not commit). `must_change`: the user must replace it
    at their next sign-in, as after an administrator reset."""
    user = session.get(DeskUser, username)
    if user is None:
        raise AuthError(_("no user {username!r}").format(username=username))
    user.password_hash = hash_password(password, username)
    user.must_change_password = must_change
    user.password_changed_at = datetime.now(UTC)


def change_own_password(session: Session, username: str, current: str, new: str) -> None:
    """The signed-in user's own change: the current password first (a left-open tab is not enough)."""
    user = session.get(DeskUser, username)
    if user is None or not user.active or not _verify(user.password_hash, current[:MAX_PASSWORD_LENGTH]):
        raise AuthError(_(WRONG_CURRENT_PASSWORD))
    if new == current:
        raise AuthError(_("the new password must differ from the current one"))
    set_password(session, username, new)


def verify_user(session: Session, username: str, password: str) -> DeskUser | None:
    """The active user if the password matches; None otherwise (no hint which). Upgrades an old
    hash to the current parameters and stamps the sign-in time (the caller commits)."""
    user = session.get(DeskUser, username.strip()[:64])
    if len(password) > MAX_PASSWORD_LENGTH:
        return None
    if user is None:
        _equal_work(password)
        return None
    if not _verify(user.password_hash, password) or not user.active:
        return None
    if _HASHER.check_needs_rehash(user.password_hash):
        with _HASH_SLOTS:
            user.password_hash = _HASHER.hash(password)
    user.last_login_at = datetime.now(UTC)
    return user


def _actor(user: DeskUser) -> Actor:
    return Actor(
        user.username,
        user.role,
        user.team,
        bool(user.must_change_password),
        user.password_changed_at,
        user.language,
    )


def authenticate(session: Session, username: str, password: str) -> Actor | None:
    """The user if the password matches and the account is active; None otherwise (no hint which).

    No throttling here: the desk signs in through `desk.services.signin.sign_in`."""
    user = verify_user(session, username, password)
    return None if user is None else _actor(user)


def load_actor(session: Session, username: str) -> Actor | None:
    """The user behind a signed-in browser session, re-read every run (a disabled user is out)."""
    user = session.get(DeskUser, username)
    if user is None or not user.active:
        return None
    return _actor(user)
