"""Sign-in throttling: consecutive failures per user name and per client, locked out for a growing
delay, counted in the database so every desk replica and restart sees the same counts.

A locked user name or client is refused *before* any password is hashed, even with the right
password, so a flood of tries costs the server a table read, not argon2 work. A lockout is written
to the audit log. A success clears the counters of that user name and that client.

Any user name is counted, existing or not, so the lockout message tells nothing about which names
exist. The price of per-name lockouts is that anyone can lock a name for a while; the delay is
capped (MD_DESK_LOCKOUT_MAX_S) for that reason.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

from sqlalchemy import delete, or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from core.db.models_desk import SigninThrottle
from core.i18n import _, _n
from core.settings import Settings
from desk.services import audit
from desk.services.auth import WRONG_CURRENT_PASSWORD, Actor, AuthError, change_own_password, verify_user

KEY_LENGTH: Final = 160
# counters untouched this long (and not locked) are dropped: "consecutive" has long ended
STALE_AFTER: Final = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class ThrottlePolicy:
    max_failures: int = 10
    first_lockout: timedelta = timedelta(minutes=1)
    max_lockout: timedelta = timedelta(hours=1)

    @classmethod
    def from_settings(cls, settings: Settings) -> ThrottlePolicy:
        return cls(
            max_failures=settings.desk_signin_max_failures,
            first_lockout=timedelta(seconds=settings.desk_lockout_s),
            max_lockout=timedelta(seconds=settings.desk_lockout_max_s),
        )

    def lockout(self, lockouts: int) -> timedelta:
        """The length of the `lockouts`-th lockout (1-based): the first, doubling, capped."""
        doubled: timedelta = self.first_lockout * (2 ** min(max(lockouts - 1, 0), 30))
        return min(doubled, self.max_lockout)


@dataclass(frozen=True, slots=True)
class SigninResult:
    """Either `actor` (signed in), or `locked_for` (refused unchecked), or neither (wrong)."""

    actor: Actor | None = None
    locked_for: timedelta | None = None

    @property
    def message(self) -> str:
        if self.actor is not None:
            return ""
        if self.locked_for is not None:
            return _locked_message(self.locked_for, signin=True)
        return _("Wrong user name or password, or the account is disabled.")


def throttle_keys(username: str, client: str) -> list[str]:
    """The counters one try touches, in a fixed order (rows are locked in this order)."""
    return sorted({f"user:{username.strip()}"[:KEY_LENGTH], client[:KEY_LENGTH]})


def locked_for(session: Session, keys: Sequence[str], now: datetime) -> timedelta | None:
    """How much longer the longest lockout among `keys` lasts; None when none is locked."""
    until = [
        at
        for at in session.scalars(
            select(SigninThrottle.locked_until).where(
                SigninThrottle.key.in_(keys), SigninThrottle.locked_until > now
            )
        )
        if at is not None
    ]
    return max(until) - now if until else None


def sign_in(
    session: Session, username: str, password: str, client: str, *, now: datetime, policy: ThrottlePolicy
) -> SigninResult:
    """Check a sign-in try against the lockouts, then the password; count it. The caller commits."""
    keys = throttle_keys(username, client)
    wait = locked_for(session, keys, now)
    if wait is not None:
        return SigninResult(locked_for=wait)
    user = verify_user(session, username, password)
    if user is not None:
        session.execute(delete(SigninThrottle).where(SigninThrottle.key.in_(keys)))
        return SigninResult(actor=Actor(user.username, user.role, user.team, user.must_change_password))
    locks = [lock for key in keys if (lock := _count_failure(session, key, now, policy)) is not None]
    _forget_stale(session, now)
    return SigninResult(locked_for=max(locks)) if locks else SigninResult()


def password_change_key(username: str) -> str:
    """The counter of wrong current passwords on the change form: a left-open tab must not become
    an unthrottled way to guess the password."""
    return f"passwd:{username}"[:KEY_LENGTH]


def change_password(
    session: Session,
    username: str,
    current: str,
    new: str,
    *,
    now: datetime,
    policy: ThrottlePolicy,
) -> None:
    """The signed-in user's own change, throttled like sign-in: after `policy.max_failures` wrong
    current passwords the form is locked for a growing delay, before any hashing. Raises AuthError
    with the message to show. The caller commits (also on failure: the count must stay)."""
    key = password_change_key(username)
    wait = locked_for(session, [key], now)
    if wait is not None:
        raise AuthError(_locked_message(wait, signin=False))
    try:
        change_own_password(session, username, current, new)
    except AuthError as exc:
        if str(exc) == _(WRONG_CURRENT_PASSWORD):
            lock = _count_failure(session, key, now, policy)
            if lock is not None:
                raise AuthError(_locked_message(lock, signin=False)) from exc
        raise
    session.execute(delete(SigninThrottle).where(SigninThrottle.key == key))


def _locked_message(wait: timedelta, *, signin: bool) -> str:
    minutes = max(1, math.ceil(wait.total_seconds() / 60))
    if signin:
        return _n(
            "Too many failed sign-ins; try again in {n} minute.",
            "Too many failed sign-ins; try again in {n} minutes.",
            minutes,
        )
    return _n(
        "Too many wrong current passwords; try again in {n} minute.",
        "Too many wrong current passwords; try again in {n} minutes.",
        minutes,
    )


def _insert(session: Session) -> Any:
    if session.get_bind().dialect.name == "postgresql":
        return pg_insert(SigninThrottle)
    return sqlite_insert(SigninThrottle)


def _count_failure(session: Session, key: str, now: datetime, policy: ThrottlePolicy) -> timedelta | None:
    """One more failure for `key`; the lockout it starts, if it reached the limit."""
    session.execute(
        _insert(session)
        .values(key=key, failures=0, lockouts=0, updated_at=now)
        .on_conflict_do_nothing(index_elements=["key"])
    )
    row = session.scalars(
        select(SigninThrottle)
        .where(SigninThrottle.key == key)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()
    row.failures += 1
    row.updated_at = now
    if row.failures < policy.max_failures:
        return None
    row.lockouts += 1
    row.failures = 0
    length = policy.lockout(row.lockouts)
    row.locked_until = now + length
    kind, _, subject = key.partition(":")
    audit.record(
        session,
        subject[:64] or kind,
        "signin_lockout",
        None,
        at=now,
        key=key,
        failures=policy.max_failures,
        lockout=row.lockouts,
        seconds=int(length.total_seconds()),
        until=row.locked_until.isoformat(),
    )
    return length


def _forget_stale(session: Session, now: datetime) -> None:
    session.execute(
        delete(SigninThrottle).where(
            SigninThrottle.updated_at < now - STALE_AFTER,
            or_(SigninThrottle.locked_until.is_(None), SigninThrottle.locked_until < now),
        )
    )
