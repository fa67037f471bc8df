"""The first desk user. Development: `mentiondesk up` creates an `admin` with a random password it
prints once (never a fixed default), which the desk makes its user replace at the first sign-in
(a printed password has been on a terminal and in logs). Production: the desk refuses to start
until a user exists (`mentiondesk users add NAME --role admin`)."""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from desk.services.auth import add_user, count_users, random_password


class NoUsers(RuntimeError):
    """Production without any desk user."""


def ensure_first_user(sessions: sessionmaker[Session], environment: str) -> str | None:
    """In development with no users, create `admin` and return its password; else None.

    Raises NoUsers in production when no user exists.
    """
    with sessions() as session:
        if count_users(session) > 0:
            return None
        if environment != "development":
            raise NoUsers(
                "no desk users: create one first with `mentiondesk users add NAME --role admin` "
                "(production never creates a default account)"
            )
        password = random_password()
        add_user(session, "admin", password, "admin", must_change_password=True)
        session.commit()
        return password
