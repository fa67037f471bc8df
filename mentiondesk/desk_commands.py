"""`mentiondesk users add|passwd|list|disable|enable` (registered in mentiondesk.cli)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

import typer
from sqlalchemy.orm import Session

from core.settings import get_settings

users_app = typer.Typer(help="Desk users: add, change passwords, list, disable.", no_args_is_help=True)
compensation_app = typer.Typer(
    help="Per-brand compensation limits (an admin's setting).", no_args_is_help=True
)


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


@users_app.command("passwd")
def passwd(
    username: Annotated[str, typer.Argument(help="user name")],
    password: Annotated[
        str | None, typer.Option(help="the new password, for scripts (visible to `ps`: prefer stdin)")
    ] = None,
    password_stdin: Annotated[bool, typer.Option(help="read the new password from stdin")] = False,
    temporary: Annotated[bool, typer.Option(help="the user must change it at their next sign-in")] = False,
) -> None:
    """Set a user's password; asked for twice unless given by --password or --password-stdin."""
    from desk.services.auth import AuthError, set_password

    if password is None:
        if password_stdin:
            password = sys.stdin.readline().rstrip("\n")
        else:
            password = typer.prompt("New password", hide_input=True, confirmation_prompt=True)
    with _session() as session:
        try:
            set_password(session, username, password, must_change=temporary)
        except AuthError as exc:
            raise _fail(str(exc)) from exc
        session.commit()
    typer.echo(f"password of {username} changed")


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


@compensation_app.command("limit")
def compensation_limit(
    brand: Annotated[str, typer.Argument(help="brand name as in the brands config; * for every other brand")],
    amount: Annotated[
        float | None, typer.Argument(min=0, help="the largest value of one compensation")
    ] = None,
    remove: Annotated[bool, typer.Option("--remove", help="remove the brand's limit")] = False,
) -> None:
    """Set (or with --remove, remove) a brand's compensation limit: a larger compensation is refused."""
    from desk.services.auth import SYSTEM
    from desk.services.threads import set_compensation_limit

    if (amount is None) != remove:
        raise _fail("give either an AMOUNT or --remove")
    with _session() as session:
        try:
            set_compensation_limit(session, SYSTEM, brand, amount)
        except ValueError as exc:
            raise _fail(str(exc)) from exc
        session.commit()
    typer.echo(f"compensation limit of {brand}: {'none' if amount is None else f'{amount:g}'}")


@compensation_app.command("limits")
def compensation_limits_list() -> None:
    """List the compensation limits: brand and limit."""
    from desk.services.threads import compensation_limits

    with _session() as session:
        limits = compensation_limits(session)
    for brand, limit in sorted(limits.items()):
        typer.echo(f"{brand:<24} {limit:g}")
    if not limits:
        typer.echo("(no limits: any compensation value is accepted)")


def register(app: typer.Typer) -> None:
    app.add_typer(users_app, name="users")
    app.add_typer(compensation_app, name="compensation")
