"""Sign-in security of the desk: lockouts after failed sign-ins (per user name and per client),
argon2 parameters that bound memory, `users passwd`, the first admin's forced password change,
idle and absolute session limits, and self-refreshing panels that check the user every time."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from streamlit.runtime.scriptrunner_utils.script_requests import RerunData
from streamlit.testing.v1 import AppTest, local_script_runner

from core.db.engine import make_engine, make_session_factory
from core.db.models_desk import AuditEntry, DeskUser
from core.db.repository import save_scored_mentions
from core.settings import get_settings
from desk.services.auth import authenticate, set_active
from desk.services.bootstrap import ensure_first_user
from desk.services.signin import SigninResult, ThrottlePolicy, sign_in
from tests.desk_support import PASSWORD, add_users, create_user
from tests.factories import BASE_TIME, scored_mention
from tests.support import run_cli

DESK = Path(__file__).resolve().parents[2] / "desk"
QUEUE_PAGE = DESK / "app_pages" / "queue.py"
ROUTER = DESK / "streamlit_app.py"
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
POLICY = ThrottlePolicy(max_failures=10, first_lockout=timedelta(minutes=1), max_lockout=timedelta(hours=1))
NEW_PASSWORD = "lilac tram at dawn"


@pytest.fixture
def desk_db(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("MD_DATABASE_URL", database_url)
    get_settings.cache_clear()
    create_user(database_url, "mira", "manager", "support")
    yield database_url
    get_settings.cache_clear()


@pytest.fixture
def db_sessions(desk_db: str) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(desk_db)
    yield make_session_factory(engine)
    engine.dispose()


def _try(
    sessions: sessionmaker[Session],
    password: str,
    at: datetime,
    user: str = "mira",
    client: str = "client:10.0.0.7",
) -> SigninResult:
    with sessions() as session:
        result = sign_in(session, user, password, client, now=at, policy=POLICY)
        session.commit()
    return result


def _lockouts(sessions: sessionmaker[Session]) -> list[str]:
    with sessions() as session:
        entries = session.scalars(select(AuditEntry).where(AuditEntry.action == "signin_lockout"))
        return sorted(str(e.detail["key"]) for e in entries)


def test_eleventh_wrong_password_locks_even_the_right_one_until_the_lockout_ends(
    db_sessions: sessionmaker[Session],
) -> None:
    for n in range(9):
        result = _try(db_sessions, f"wrong guess {n}", T0 + timedelta(seconds=n))
        assert result.actor is None and result.locked_for is None
    tenth = _try(db_sessions, "wrong guess 10", T0 + timedelta(seconds=9))
    assert tenth.actor is None and tenth.locked_for == timedelta(minutes=1)
    eleventh = _try(db_sessions, PASSWORD, T0 + timedelta(seconds=10))
    assert eleventh.actor is None, "locked: even the right password is refused"
    assert eleventh.message == "Too many failed sign-ins; try again in 1 minute."
    assert _lockouts(db_sessions) == ["client:10.0.0.7", "user:mira"], "one audit entry per lockout"

    after = _try(db_sessions, PASSWORD, T0 + timedelta(seconds=70))
    assert after.actor is not None and after.actor.username == "mira", "the lockout ended"

    # the success reset the count: nine more failures do not lock; the tenth does, for 1 min again
    start = T0 + timedelta(minutes=5)
    for n in range(9):
        assert _try(db_sessions, "nope nope nope", start + timedelta(seconds=n)).locked_for is None
    assert _try(db_sessions, "nope nope nope", start + timedelta(seconds=9)).locked_for == timedelta(
        minutes=1
    )
    # without a success in between, the next lockout is twice as long
    later = start + timedelta(minutes=2)
    for n in range(9):
        assert _try(db_sessions, "still wrong", later + timedelta(seconds=n)).locked_for is None
    second = _try(db_sessions, "still wrong", later + timedelta(seconds=9))
    assert second.locked_for == timedelta(minutes=2)
    assert _try(db_sessions, PASSWORD, later + timedelta(seconds=70)).actor is None
    assert _try(db_sessions, PASSWORD, later + timedelta(seconds=140)).actor is not None


def test_one_client_trying_many_names_is_locked_and_others_are_not(
    db_sessions: sessionmaker[Session],
) -> None:
    for n in range(10):
        _try(
            db_sessions,
            "guess guess guess",
            T0 + timedelta(seconds=n),
            user=f"user{n}",
            client="client:203.0.113.9",
        )
    from_attacker = _try(db_sessions, PASSWORD, T0 + timedelta(seconds=20), client="client:203.0.113.9")
    assert from_attacker.actor is None and from_attacker.locked_for is not None
    from_office = _try(db_sessions, PASSWORD, T0 + timedelta(seconds=21), client="client:10.0.0.7")
    assert from_office.actor is not None, "a name nobody attacked signs in from another client"
    unknown = _try(
        db_sessions, "whatever it is", T0 + timedelta(seconds=22), user="user3", client="client:10.0.0.8"
    )
    assert unknown.locked_for is None, "names that do not exist are counted like any other, not locked yet"


def test_hashes_use_bounded_memory_and_old_hashes_are_upgraded(db_sessions: sessionmaker[Session]) -> None:
    old_hash = PasswordHasher().hash(PASSWORD)  # the argon2-cffi defaults used so far: 64 MiB
    assert "m=65536" in old_hash
    with db_sessions.begin() as session:
        add_users(session, [("olga", "agent", None, 20)])
        user = session.get(DeskUser, "olga")
        assert user is not None and "$m=19456,t=2,p=1$" in user.password_hash
        user.password_hash = old_hash
    with db_sessions.begin() as session:
        assert authenticate(session, "olga", PASSWORD) is not None, "an old hash still verifies"
    with db_sessions() as session:
        user = session.get(DeskUser, "olga")
        assert user is not None and "$m=19456,t=2,p=1$" in user.password_hash, "re-hashed at sign-in"
        assert authenticate(session, "olga", PASSWORD) is not None


def test_users_passwd_through_the_cli(desk_db: str, db_sessions: sessionmaker[Session]) -> None:
    env = {"MD_DATABASE_URL": desk_db}
    changed = run_cli("users", "passwd", "mira", "--password", NEW_PASSWORD, env=env)
    assert changed.returncode == 0, changed.stderr
    assert "password of mira changed" in changed.stdout
    with db_sessions() as session:
        assert authenticate(session, "mira", NEW_PASSWORD) is not None
        assert authenticate(session, "mira", PASSWORD) is None
    for weak, why in (("password", "at least 12"), ("password1234", "too common"), ("mira", "at least 12")):
        refused = run_cli("users", "passwd", "mira", "--password", weak, env=env)
        assert refused.returncode == 1 and why in refused.stderr, refused.stderr
    named = run_cli("users", "passwd", "marina.kovaleva", "--password", "a good long phrase", env=env)
    assert named.returncode == 1 and "no user" in named.stderr
    create_user(desk_db, "marina.kovaleva", "agent")
    same = run_cli("users", "passwd", "marina.kovaleva", "--password", "Marina.Kovaleva", env=env)
    assert same.returncode == 1 and "user name" in same.stderr
    temporary = run_cli(
        "users", "passwd", "mira", "--password", "a fresh temporary one", "--temporary", env=env
    )
    assert temporary.returncode == 0, temporary.stderr
    with db_sessions() as session:
        user = session.get(DeskUser, "mira")
        assert user is not None and user.must_change_password


def test_first_admin_must_change_the_printed_password(
    desk_db: str, db_sessions: sessionmaker[Session]
) -> None:
    with db_sessions.begin() as session:
        session.query(DeskUser).delete()
    printed = ensure_first_user(db_sessions, "development")
    assert printed is not None
    app = AppTest.from_file(str(ROUTER), default_timeout=30).run()
    app.text_input[0].set_value("admin")
    app.text_input[1].set_value(printed)
    app.button[0].click().run()
    assert not app.exception
    assert [h.value for h in app.header] == ["Change password"], "nothing but the change form"
    assert len(app.dataframe) == 0

    direct = AppTest.from_file(str(QUEUE_PAGE), default_timeout=30)
    direct.session_state["md_user"] = "admin"
    direct.run()
    assert [w.value for w in direct.warning] == ["Change your password first."] and len(direct.dataframe) == 0

    form = app.get("form")[0]
    form.text_input[0].set_value(printed)
    form.text_input[1].set_value("password12345")
    form.text_input[2].set_value("password12345")
    app.button(key="FormSubmitter:change_password-Change password").click().run()
    assert [e.value for e in app.error] == ["this password is too common: pick a longer phrase of your own"]
    assert [h.value for h in app.header] == ["Change password"]

    form = app.get("form")[0]
    form.text_input[0].set_value(printed)
    form.text_input[1].set_value(NEW_PASSWORD)
    form.text_input[2].set_value(NEW_PASSWORD)
    app.button(key="FormSubmitter:change_password-Change password").click().run()
    assert not app.exception
    assert [h.value for h in app.header] == ["Queue"], "the whole desk once the password is the user's own"
    with db_sessions() as session:
        user = session.get(DeskUser, "admin")
        assert user is not None and not user.must_change_password
        assert authenticate(session, "admin", NEW_PASSWORD) is not None
        assert authenticate(session, "admin", printed) is None


def test_login_page_refuses_a_locked_name(desk_db: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MD_DESK_SIGNIN_MAX_FAILURES", "3")
    get_settings.cache_clear()
    app = AppTest.from_file(str(ROUTER), default_timeout=30).run()
    app.text_input[0].set_value("mira")
    for _ in range(3):
        app.text_input[1].set_value("not the password")
        app.button[0].click().run()
    app.text_input[1].set_value(PASSWORD)
    app.button[0].click().run()
    assert [e.value for e in app.error] == ["Too many failed sign-ins; try again in 1 minute."]
    assert "md_user" not in app.session_state


def _populate(url: str) -> None:
    engine = make_engine(url)
    try:
        with make_session_factory(engine).begin() as session:
            save_scored_mentions(session, [scored_mention("a", text="broken again", created_at=BASE_TIME)])
    finally:
        engine.dispose()


def _refresh_fragments(app: AppTest, monkeypatch: pytest.MonkeyPatch) -> None:
    """What the browser's `run_every` timer does: rerun only the page's fragments, not the page.

    AppTest has no timer, so its runner is given the fragment ids the way the browser sends them."""
    ids = list(app._fragment_storage._fragments)
    assert ids, "the page has a self-refreshing fragment"
    with monkeypatch.context() as patch:
        patch.setattr(
            local_script_runner, "RerunData", partial(RerunData, fragment_id_queue=ids, is_auto_rerun=True)
        )
        app.run()


def test_disabled_user_loses_the_open_queue_at_its_next_refresh(
    desk_db: str, db_sessions: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    _populate(desk_db)
    app = AppTest.from_file(str(QUEUE_PAGE), default_timeout=30)
    app.session_state["md_user"] = "mira"
    app.run()
    assert not app.exception and len(app.dataframe) == 1

    idle_since = datetime.now(UTC) - timedelta(minutes=10)
    app.session_state["md_active_at"] = idle_since
    _refresh_fragments(app, monkeypatch)
    assert not app.exception and len(app.dataframe) == 1, "a refresh of an active user shows the queue"
    assert app.session_state["md_active_at"] == idle_since, "a refresh is not user activity"

    with db_sessions.begin() as session:
        set_active(session, "mira", False)
    _refresh_fragments(app, monkeypatch)
    assert not app.exception
    assert len(app.dataframe) == 0, "the disabled user's tab shows no queue after the refresh"
    assert [w.value for w in app.warning] == ["Please sign in."]


def test_idle_and_old_sessions_expire(desk_db: str) -> None:
    _populate(desk_db)
    now = datetime.now(UTC)
    idle = AppTest.from_file(str(ROUTER), default_timeout=30)
    idle.session_state["md_user"] = "mira"
    idle.session_state["md_signed_in_at"] = now - timedelta(hours=1)
    idle.session_state["md_active_at"] = now - timedelta(minutes=31)
    idle.run()
    assert not idle.exception and len(idle.dataframe) == 0
    assert [w.value for w in idle.warning] == [
        "You were signed out after a period of inactivity; please sign in again."
    ]
    assert "md_user" not in idle.session_state
    assert [h.value for h in idle.header] == ["Sign in"]

    old = AppTest.from_file(str(QUEUE_PAGE), default_timeout=30)
    old.session_state["md_user"] = "mira"
    old.session_state["md_signed_in_at"] = now - timedelta(hours=12, minutes=1)
    old.session_state["md_active_at"] = now - timedelta(minutes=1)
    old.run()
    assert len(old.dataframe) == 0
    assert [w.value for w in old.warning] == ["Your session reached its time limit; please sign in again."]

    active = AppTest.from_file(str(QUEUE_PAGE), default_timeout=30)
    active.session_state["md_user"] = "mira"
    active.session_state["md_signed_in_at"] = now - timedelta(hours=11)
    active.session_state["md_active_at"] = now - timedelta(minutes=29)
    active.run()
    assert len(active.dataframe) == 1, "within both limits the session goes on"
    assert active.session_state["md_active_at"] > now, "a full page run is activity"


def test_admin_resets_a_password_under_the_policy(desk_db: str, db_sessions: sessionmaker[Session]) -> None:
    create_user(desk_db, "root", "admin")
    app = AppTest.from_file(str(DESK / "app_pages" / "admin.py"), default_timeout=30)
    app.session_state["md_user"] = "root"
    app.run()
    app.selectbox(key="reset_who").set_value("mira")
    app.text_input(key="reset_password").set_value("qwerty123456")
    app.button(key="FormSubmitter:reset_password-Reset password").click().run()
    assert [e.value for e in app.error] == ["this password is too common: pick a longer phrase of your own"]
    app.selectbox(key="reset_who").set_value("mira")
    app.text_input(key="reset_password").set_value("a temporary phrase 7")
    app.button(key="FormSubmitter:reset_password-Reset password").click().run()
    assert [s.value for s in app.success] == ["Password of mira reset."]
    with db_sessions() as session:
        user = session.get(DeskUser, "mira")
        assert user is not None and user.must_change_password, "mira must choose her own next time"
        assert authenticate(session, "mira", "a temporary phrase 7") is not None

    own = AppTest.from_file(str(DESK / "app_pages" / "password.py"), default_timeout=30)
    own.session_state["md_user"] = "mira"
    own.run()
    form = own.get("form")[0]
    form.text_input[0].set_value("not my current one")
    form.text_input[1].set_value(NEW_PASSWORD)
    form.text_input[2].set_value(NEW_PASSWORD)
    own.button(key="FormSubmitter:change_password-Change password").click().run()
    assert [e.value for e in own.error] == ["the current password is wrong"]
    form = own.get("form")[0]
    form.text_input[0].set_value("a temporary phrase 7")
    form.text_input[1].set_value("mira")
    form.text_input[2].set_value("mira")
    own.button(key="FormSubmitter:change_password-Change password").click().run()
    assert [e.value for e in own.error] == ["a password needs at least 12 characters"]


def _change_form(app: AppTest, current: str, new: str) -> AppTest:
    form = app.get("form")[0]
    form.text_input[0].set_value(current)
    form.text_input[1].set_value(new)
    form.text_input[2].set_value(new)
    return app.button(key="FormSubmitter:change_password-Change password").click().run()


def test_a_password_change_signs_out_the_users_other_sessions_but_not_this_one(desk_db: str) -> None:
    _populate(desk_db)
    other_device = AppTest.from_file(str(QUEUE_PAGE), default_timeout=30)
    other_device.session_state["md_user"] = "mira"
    other_device.run()
    assert len(other_device.dataframe) == 1

    this_tab = AppTest.from_file(str(DESK / "app_pages" / "password.py"), default_timeout=30)
    this_tab.session_state["md_user"] = "mira"
    this_tab.run()
    _change_form(this_tab, PASSWORD, NEW_PASSWORD)
    assert [s.value for s in this_tab.success] == [
        "Password changed. Other sessions of yours were signed out."
    ]

    other_device.run()
    assert len(other_device.dataframe) == 0
    assert [w.value for w in other_device.warning] == ["Your password was changed; please sign in again."]
    same_tab = AppTest.from_file(str(QUEUE_PAGE), default_timeout=30)
    same_tab.session_state["md_user"] = "mira"
    same_tab.session_state["md_signed_in_at"] = this_tab.session_state["md_signed_in_at"]
    same_tab.run()
    assert len(same_tab.dataframe) == 1, "the tab that changed the password stays signed in"


def test_wrong_current_passwords_on_the_change_form_lock_it(
    desk_db: str, db_sessions: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MD_DESK_SIGNIN_MAX_FAILURES", "3")
    get_settings.cache_clear()
    app = AppTest.from_file(str(DESK / "app_pages" / "password.py"), default_timeout=30)
    app.session_state["md_user"] = "mira"
    app.run()
    for _ in range(2):
        _change_form(app, "a wrong guess", NEW_PASSWORD)
        assert [e.value for e in app.error] == ["the current password is wrong"]
    _change_form(app, "a third wrong guess", NEW_PASSWORD)
    assert [e.value for e in app.error] == ["Too many wrong current passwords; try again in 1 minute."]
    _change_form(app, PASSWORD, NEW_PASSWORD)
    assert [e.value for e in app.error] == ["Too many wrong current passwords; try again in 1 minute."], (
        "the right current password is refused unchecked while the form is locked"
    )
    with db_sessions() as session:
        assert authenticate(session, "mira", PASSWORD) is not None, "the password did not change"
    assert _lockouts(db_sessions) == ["passwd:mira"]
