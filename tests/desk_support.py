"""Helpers for desk tests: a migrated database with users, teams and threads; signed-in actors."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import time

from sqlalchemy.orm import Session, sessionmaker

from core.db.models_desk import DeskShift, DeskTeam, RoutingRule
from core.db.repository import save_scored_mentions
from desk.services.auth import Actor, add_user
from desk.services.calendar_store import save_calendar
from desk.services.clocks import BusinessCalendar
from schemas import ScoredMention

PASSWORD = "correct horse battery"
# no production calendar: the factories' day (Monday 5 January 2026) is a Russian New Year holiday
UTC_CALENDAR = BusinessCalendar(
    tz="UTC", day_start=time(9, 0), day_end=time(18, 0), cutoff=time(18, 0), country=None
)


def actor(username: str, role: str = "agent", team: str | None = None) -> Actor:
    return Actor(username, role, team)


def add_users(session: Session, users: Sequence[tuple[str, str, str | None, int]]) -> None:
    """(username, role, team, cap) each, all with PASSWORD; teams are created as needed."""
    for username, role, team, cap in users:
        if team and session.get(DeskTeam, team) is None:
            session.add(DeskTeam(name=team))
            session.flush()
        add_user(session, username, PASSWORD, role, team=team, cap=cap)


def setup_desk(sessions: sessionmaker[Session], calendar: BusinessCalendar = UTC_CALENDAR) -> None:
    """Two agents and a manager in team "support", the UTC calendar."""
    with sessions.begin() as session:
        save_calendar(session, calendar)
        add_users(
            session,
            [
                ("anna", "agent", "support", 50),
                ("boris", "agent", "support", 50),
                ("maria", "manager", "support", 0),
            ],
        )
        session.add(RoutingRule(position=1, team="support", active=True))


def save(sessions: sessionmaker[Session], mentions: Sequence[ScoredMention]) -> None:
    with sessions.begin() as session:
        save_scored_mentions(session, list(mentions))


__all__ = ["PASSWORD", "UTC_CALENDAR", "DeskShift", "actor", "add_users", "save", "setup_desk"]


def create_user(database_url: str, username: str, role: str, team: str | None = None) -> None:
    """A user with PASSWORD in the database at `database_url` (migrated first)."""
    from core.db.engine import make_engine, make_session_factory, migrate

    migrate(database_url)
    engine = make_engine(database_url)
    try:
        with make_session_factory(engine).begin() as session:
            add_users(session, [(username, role, team, 20)])
    finally:
        engine.dispose()
