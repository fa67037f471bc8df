"""`mentiondesk users add|list|disable`, argon2 hashes, and the first user: random in development,
refused in production."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from core.db.engine import make_engine, make_session_factory, migrate
from core.db.models_desk import DeskUser
from core.settings import get_settings
from desk.services.auth import PermissionDenied, authenticate, check
from desk.services.bootstrap import NoUsers, ensure_first_user
from mentiondesk.cli import app


@pytest.fixture
def db(sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("MD_DATABASE_URL", sqlite_url)
    get_settings.cache_clear()
    yield sqlite_url
    get_settings.cache_clear()


def test_users_add_list_disable(db: str) -> None:
    runner = CliRunner()
    added = runner.invoke(
        app,
        ["users", "add", "anna", "--role", "manager", "--team", "vk", "--password-stdin"],
        input="s3cret-passphrase\n",
    )
    assert added.exit_code == 0, added.output
    short = runner.invoke(app, ["users", "add", "bob", "--password-stdin"], input="short\n")
    assert short.exit_code == 1 and "at least 12 characters" in short.output
    bad_role = runner.invoke(
        app, ["users", "add", "eve", "--role", "root", "--password-stdin"], input="long enough\n"
    )
    assert bad_role.exit_code == 1 and "unknown role" in bad_role.output
    listed = runner.invoke(app, ["users", "list"])
    assert (
        listed.exit_code == 0
        and "anna" in listed.output
        and "manager" in listed.output
        and "active" in listed.output
    )

    engine = make_engine(db)
    sessions = make_session_factory(engine)
    with sessions() as session:
        user = session.scalar(select(DeskUser))
        assert user is not None and user.password_hash.startswith("$argon2id$")
        assert "s3cret-passphrase" not in user.password_hash
        actor = authenticate(session, "anna", "s3cret-passphrase")
        assert actor is not None and actor.team == "vk"
        assert authenticate(session, "anna", "wrong") is None
        check(actor, "thread.assign")
        with pytest.raises(PermissionDenied):
            check(actor, "admin.edit")
    assert runner.invoke(app, ["users", "disable", "anna"]).exit_code == 0
    with sessions() as session:
        assert authenticate(session, "anna", "s3cret-passphrase") is None, "a disabled user cannot sign in"
    assert "disabled" in runner.invoke(app, ["users", "list"]).output
    engine.dispose()


def test_first_user_is_random_in_development_and_refused_in_production(db: str) -> None:
    migrate(db)
    engine = make_engine(db)
    sessions = make_session_factory(engine)
    with pytest.raises(NoUsers):
        ensure_first_user(sessions, "production")
    first = ensure_first_user(sessions, "development")
    assert first is not None and len(first) >= 12
    assert ensure_first_user(sessions, "development") is None, "only when no user exists"
    assert ensure_first_user(sessions, "production") is None
    with sessions() as session:
        assert authenticate(session, "admin", first) is not None
    engine.dispose()
    other = make_engine(db.replace("mentiondesk.db", "other.db"))
    migrate(str(other.url))
    second = ensure_first_user(make_session_factory(other), "development")
    other.dispose()
    assert second is not None and second != first, "never a fixed default"
