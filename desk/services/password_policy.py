"""What a desk password must be: long enough, not a well-known one, not the user's own name.

One check for every way a password is set (`users add`, `users passwd`, the admin page and the
change-password form), so none of them can let a weak one in.
"""

from __future__ import annotations

import re
from typing import Final

from core.i18n import _
from desk.services.common_passwords import COMMON_PASSWORDS

MIN_PASSWORD_LENGTH: Final = 12
# argon2 pre-hashes any length, but a megabyte "password" is only ever an attack on the server
MAX_PASSWORD_LENGTH: Final = 1024
MIN_DISTINCT_CHARACTERS: Final = 5
# digits, symbols and spaces people tack onto a common word to pass a length rule: `password2026!`
_TAIL: Final = re.compile(r"[\d\W_]+$")
_HEAD: Final = re.compile(r"^[\d\W_]+")


class WeakPassword(ValueError):
    """The password does not meet the policy; the message says why."""


def _stem(text: str) -> str:
    return _HEAD.sub("", _TAIL.sub("", text))


def password_problem(password: str, username: str | None = None) -> str | None:
    """Why `password` is refused, or None when it is acceptable."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return _("a password needs at least {n} characters").format(n=MIN_PASSWORD_LENGTH)
    if len(password) > MAX_PASSWORD_LENGTH:
        return _("a password may have at most {n} characters").format(n=MAX_PASSWORD_LENGTH)
    folded = password.casefold()
    if len(set(folded)) < MIN_DISTINCT_CHARACTERS:
        return _("a password needs more different characters")
    stem = _stem(folded)
    if folded in COMMON_PASSWORDS or stem in COMMON_PASSWORDS or not stem:
        return _("this password is too common: pick a longer phrase of your own")
    if username:
        name = username.strip().casefold()
        if name and name in (folded, stem):
            return _("a password must not be the user name")
    return None


def check_password(password: str, username: str | None = None) -> None:
    """Raise WeakPassword when the policy refuses `password`."""
    problem = password_problem(password, username)
    if problem is not None:
        raise WeakPassword(problem)
