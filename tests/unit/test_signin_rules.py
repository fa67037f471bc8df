"""The pure rules of sign-in security: the password policy, the growing lockout, session limits."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from desk.services.password_policy import MIN_PASSWORD_LENGTH, password_problem
from desk.services.sessions import SessionLimits, expiry_reason
from desk.services.signin import SigninResult, ThrottlePolicy
from tests.desk_support import PASSWORD


@pytest.mark.parametrize(
    ("password", "why"),
    [
        ("password", "at least 12 characters"),
        ("short1!", "at least 12 characters"),
        ("password1234", "too common"),
        ("Password2026!", "too common"),
        ("qwertyuiop123", "too common"),
        ("йцукенгшщзхъ", "too common"),
        ("123456789012", "too common"),
        ("mentiondesk2026", "too common"),
        ("aaaaaaaaaaaaaaaa", "more different characters"),
        ("abababababababab", "more different characters"),
        ("Anastasia.Petrova", "user name"),
        ("anastasia.petrova2026", "user name"),
    ],
)
def test_policy_refuses_weak_passwords(password: str, why: str) -> None:
    problem = password_problem(password, "anastasia.petrova")
    assert problem is not None and why in problem


def test_policy_accepts_a_long_phrase_of_ones_own() -> None:
    assert MIN_PASSWORD_LENGTH == 12
    assert password_problem(PASSWORD, "anna") is None
    assert password_problem("вечерний трамвай 42", "anna") is None
    assert password_problem("x" * 2000) is not None, "a megabyte password is an attack, not a password"


def test_lockout_doubles_up_to_the_cap() -> None:
    policy = ThrottlePolicy(
        max_failures=10, first_lockout=timedelta(minutes=1), max_lockout=timedelta(hours=1)
    )
    assert [policy.lockout(n) for n in (1, 2, 3, 4)] == [timedelta(minutes=m) for m in (1, 2, 4, 8)]
    assert policy.lockout(7) == timedelta(hours=1) and policy.lockout(500) == timedelta(hours=1)


def test_lockout_message_in_whole_minutes() -> None:
    assert SigninResult(locked_for=timedelta(seconds=5)).message == (
        "Too many failed sign-ins; try again in 1 minute."
    )
    assert SigninResult(locked_for=timedelta(seconds=61)).message == (
        "Too many failed sign-ins; try again in 2 minutes."
    )


def test_session_ends_when_idle_or_too_old() -> None:
    limits = SessionLimits(idle=timedelta(minutes=30), lifetime=timedelta(hours=12))
    start = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    assert expiry_reason(start, start, start + timedelta(minutes=29), limits) is None
    idle = expiry_reason(start, start, start + timedelta(minutes=30), limits)
    assert idle is not None and "inactivity" in idle
    busy = start + timedelta(hours=12) - timedelta(minutes=1)
    assert expiry_reason(start, busy, busy, limits) is None
    old = expiry_reason(start, busy, start + timedelta(hours=12), limits)
    assert old is not None and "time limit" in old
