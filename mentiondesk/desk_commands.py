"""`mentiondesk users add|list|disable|enable` (registered in mentiondesk.cli)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

import typer
from sqlalchemy.orm import Session

from core.settings import get_settings

users_app = typer.Typer(help="Desk users: add, list, disable.", no_args_is_help=True)


@contextmanager
def _session() -> Iterator[Session]:
    from core.db.engine import make_engine, make_session_factory, migrate

    url = get_settings().database_url
    migrate(url)
    engine = make_engine(url)
    try:
        with make_session_factory(engine)() as session:
            yield session
    finally:
        engine.dispose()


def _fail(message: str) -> typer.Exit:
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    return typer.Exit(1)


@users_app.command("add")
def add(
    username: Annotated[str, typer.Argument(help="user name")],
    role: Annotated[str, typer.Option(help="agent, manager, brand_lead or admin")] = "agent",
    team: Annotated[str | None, typer.Option(help="team name")] = None,
    cap: Annotated[int, typer.Option(help="most open threads routed to this agent")] = 20,
    password_stdin: Annotated[bool, typer.Option(help="read the password from stdin")] = False,
) -> None:
    """Add a user; the password is asked for (twice) or read from stdin."""
    from core.db.models_desk import DeskTeam
    from desk.services.auth import AuthError, add_user

    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    with _session() as session:
        try:
            if team and session.get(DeskTeam, team) is None:
                session.add(DeskTeam(name=team))
                session.flush()
            add_user(session, username, password, role, team=team, cap=cap)
        except AuthError as exc:
            raise _fail(str(exc)) from exc
        session.commit()
    typer.echo(f"user {username} added ({role})")


@users_app.command("list")
def list_() -> None:
    """List users: name, role, team, cap, state."""
    from desk.services.auth import list_users

    with _session() as session:
        for user in list_users(session):
            state = "active" if user.active else "disabled"
            typer.echo(f"{user.username:<20} {user.role:<11} {user.team or '-':<12} {user.cap:>4}  {state}")


def _set_active(username: str, active: bool) -> None:
    from desk.services.auth import AuthError, set_active

    with _session() as session:
        try:
            set_active(session, username, active)
        except AuthError as exc:
            raise _fail(str(exc)) from exc
        session.commit()
    typer.echo(f"user {username} {'enabled' if active else 'disabled'}")


@users_app.command("disable")
def disable(username: str) -> None:
    """Disable a user: they are signed out at their next click and cannot sign in."""
    _set_active(username, False)


@users_app.command("enable")
def enable(username: str) -> None:
    _set_active(username, True)


def register(app: typer.Typer) -> None:
    app.add_typer(users_app, name="users")
