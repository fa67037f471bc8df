"""Notices on SQLite and PostgreSQL: a new owner is told (routing and manual assignment), a clock
about to run out is told once, a missed deadline escalates to the team's manager, away agents get
no new threads; delivery by e-mail (a real SMTP server) and Telegram (a local receiver)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from core.db.models import Thread
from core.db.models_notices import DeskNotice
from core.settings import Settings
from desk.services import notices
from desk.services.notice_delivery import deliver_pending
from desk.services.sync import sync_threads
from desk.services.threads import assign
from desk.services.user_prefs import set_away, set_contacts
from tests.desk_support import actor, save, setup_desk
from tests.factories import scored_mention
from tests.mail_support import smtp_server, webhook_server

TUESDAY = datetime(2026, 11, 17, 10, 0, tzinfo=UTC)  # first response due 18:00 (UTC calendar, 9-18)
FIRST_DUE = datetime(2026, 11, 17, 18, 0, tzinfo=UTC)


def _sync(sessions: sessionmaker[Session], now: datetime) -> int:
    with sessions.begin() as session:
        return sync_threads(session, now).notices


def _notices(sessions: sessionmaker[Session], kind: str | None = None) -> list[DeskNotice]:
    with sessions() as session:
        stmt = select(DeskNotice).order_by(DeskNotice.id)
        if kind:
            stmt = stmt.where(DeskNotice.kind == kind)
        return list(session.scalars(stmt))


def _owner(sessions: sessionmaker[Session], key: str) -> tuple[int, str]:
    with sessions() as session:
        thread = session.scalars(select(Thread).where(Thread.thread_key == key)).one()
        return thread.id, str(thread.assigned_to)


def test_routing_tells_the_new_owner_once(sessions: sessionmaker[Session]) -> None:
    setup_desk(sessions)
    save(sessions, [scored_mention("p1", created_at=TUESDAY)])
    _sync(sessions, TUESDAY + timedelta(minutes=1))
    thread_id, owner = _owner(sessions, "p1")
    assert owner in ("anna", "boris")
    assigned = _notices(sessions, "assigned")
    assert [(n.username, n.thread_id) for n in assigned] == [(owner, thread_id)]
    with sessions() as session:
        assert notices.unread_count(session, owner) == 1
        assert (
            notices.notice_text(notices.recent(session, owner)[0]) == f"Case {thread_id} is assigned to you"
        )
    _sync(sessions, TUESDAY + timedelta(minutes=2))  # the next pass tells nobody again
    assert len(_notices(sessions, "assigned")) == 1


def test_manual_assignment_tells_the_new_owner_not_the_taker(sessions: sessionmaker[Session]) -> None:
    setup_desk(sessions)
    save(sessions, [scored_mention("p1", created_at=TUESDAY)])
    _sync(sessions, TUESDAY + timedelta(minutes=1))
    thread_id, owner = _owner(sessions, "p1")
    other = "boris" if owner == "anna" else "anna"
    with sessions.begin() as session:
        assert assign(session, actor("maria", "manager", "support"), [thread_id], other) == 1
    told = [(n.username, n.thread_id) for n in _notices(sessions, "assigned")]
    assert told == [(owner, thread_id), (other, thread_id)]
    with sessions.begin() as session:  # the first owner takes it back themselves: no notice
        assign(session, actor(owner, "agent", "support"), [thread_id], owner)
    assert len(_notices(sessions, "assigned")) == 2
    with sessions.begin() as session:  # given to the other again later: a new notice
        assign(session, actor("maria", "manager", "support"), [thread_id], other)
    assert [n.username for n in _notices(sessions, "assigned")] == [owner, other, other]


def test_clock_about_to_run_out_is_told_once(sessions: sessionmaker[Session]) -> None:
    setup_desk(sessions)
    save(sessions, [scored_mention("p1", created_at=TUESDAY)])
    _sync(sessions, TUESDAY + timedelta(minutes=1))
    thread_id, owner = _owner(sessions, "p1")
    _sync(sessions, FIRST_DUE - timedelta(minutes=31))  # not yet within 30 minutes
    assert _notices(sessions, "due_soon") == []
    _sync(sessions, FIRST_DUE - timedelta(minutes=29))
    _sync(sessions, FIRST_DUE - timedelta(minutes=10))  # the next pass: still one
    due = _notices(sessions, "due_soon")
    assert [(n.username, n.thread_id, n.clock, n.due_at) for n in due] == [
        (owner, thread_id, "first_response", FIRST_DUE)
    ]
    # a wider window (MD_NOTIFY_BEFORE_DUE_MIN) set on a process does not double it either
    with sessions.begin() as session:
        sync_threads(session, FIRST_DUE - timedelta(minutes=5), notify_before=timedelta(hours=2))
    assert len(_notices(sessions, "due_soon")) == 1


def test_missed_deadline_escalates_to_the_manager_once(sessions: sessionmaker[Session]) -> None:
    setup_desk(sessions)
    save(sessions, [scored_mention("p1", created_at=TUESDAY)])
    _sync(sessions, TUESDAY + timedelta(minutes=1))
    thread_id, owner = _owner(sessions, "p1")
    _sync(sessions, FIRST_DUE + timedelta(minutes=5))
    _sync(sessions, FIRST_DUE + timedelta(minutes=10))
    missed = _notices(sessions, "missed")
    assert sorted((n.username, n.clock, n.about) for n in missed) == sorted(
        [("maria", "first_response", owner), (owner, "first_response", None)]
    )
    assert all(n.thread_id == thread_id and n.due_at == FIRST_DUE for n in missed)
    with sessions() as session:
        text = notices.notice_text(notices.recent(session, "maria")[0])
    assert text == (
        f"Case {thread_id}: the first response deadline (2026-11-17 18:00 UTC) was missed (owner: {owner})"
    )


def test_the_same_notice_twice_is_one_row(sessions: sessionmaker[Session]) -> None:
    """Two desk processes (or passes) writing the same notice: the key keeps one."""
    setup_desk(sessions)
    save(sessions, [scored_mention("p1", created_at=TUESDAY)])
    _sync(sessions, TUESDAY + timedelta(minutes=1))
    thread_id, _ = _owner(sessions, "p1")
    with sessions.begin() as session:
        first = notices.notify_assigned(session, thread_id, "maria", 7, TUESDAY)
    with sessions.begin() as session:
        second = notices.notify_assigned(session, thread_id, "maria", 7, TUESDAY + timedelta(seconds=1))
    assert (first, second) == (1, 0)
    with sessions() as session:
        assert session.scalar(select(func.count()).where(DeskNotice.username == "maria")) == 1


def test_away_agents_get_no_new_threads(sessions: sessionmaker[Session]) -> None:
    setup_desk(sessions)
    with sessions.begin() as session:
        set_away(session, actor("anna", "agent", "support"), True, TUESDAY)
    save(sessions, [scored_mention(f"p{i}", created_at=TUESDAY) for i in range(4)])
    _sync(sessions, TUESDAY + timedelta(minutes=1))
    owners = [_owner(sessions, f"p{i}")[1] for i in range(4)]
    assert owners == ["boris"] * 4
    with sessions.begin() as session:
        set_away(session, actor("boris", "agent", "support"), True, TUESDAY)
        set_away(session, actor("anna", "agent", "support"), False, TUESDAY)
    save(sessions, [scored_mention("q1", created_at=TUESDAY + timedelta(minutes=2))])
    _sync(sessions, TUESDAY + timedelta(minutes=3))
    assert _owner(sessions, "q1")[1] == "anna"
    with sessions.begin() as session:
        set_away(session, actor("anna", "agent", "support"), True, TUESDAY)
    save(sessions, [scored_mention("q2", created_at=TUESDAY + timedelta(minutes=4))])
    _sync(sessions, TUESDAY + timedelta(minutes=5))
    assert _owner(sessions, "q2")[1] == "maria", "everyone away: the manager takes the overflow"


def test_away_owner_clock_warning_also_goes_to_the_manager(sessions: sessionmaker[Session]) -> None:
    setup_desk(sessions)
    save(sessions, [scored_mention("p1", created_at=TUESDAY)])
    _sync(sessions, TUESDAY + timedelta(minutes=1))
    _, owner = _owner(sessions, "p1")
    with sessions.begin() as session:
        set_away(session, actor(owner, "agent", "support"), True, TUESDAY)
    _sync(sessions, FIRST_DUE - timedelta(minutes=20))
    assert sorted(n.username for n in _notices(sessions, "due_soon")) == sorted([owner, "maria"])


def test_notices_go_by_email_and_telegram_once(sessions: sessionmaker[Session], database_url: str) -> None:
    setup_desk(sessions)
    save(sessions, [scored_mention("p1", created_at=TUESDAY)])
    _sync(sessions, TUESDAY + timedelta(minutes=1))
    thread_id, owner = _owner(sessions, "p1")
    with sessions.begin() as session:
        set_contacts(
            session,
            actor(owner, "agent", "support"),
            owner,
            email=f"{owner}@example.test",
            telegram_chat_id="123456",
        )
    now = datetime.now(UTC)
    with sessions.begin() as session:  # a fresh notice (delivery skips those older than a day)
        notices.notify_assigned(session, thread_id, owner, 99, now)
    with smtp_server() as (port, inbox), webhook_server() as (url, received):
        settings = Settings(
            database_url=database_url,
            smtp_host="127.0.0.1",
            smtp_port=port,
            notify_telegram_webhook_url=url,
        )
        assert deliver_pending(sessions, settings, now) == 1
        assert deliver_pending(sessions, settings, now + timedelta(seconds=5)) == 0
    assert [m["To"] for m in inbox.messages] == [f"{owner}@example.test"]
    assert inbox.messages[0]["Subject"] == f"[mentiondesk] Case {thread_id} is assigned to you"
    assert received == [{"chat_id": "123456", "text": f"Case {thread_id} is assigned to you"}]
    fresh = [n for n in _notices(sessions, "assigned") if n.created_at >= now]
    assert [(n.email_status, n.telegram_status) for n in fresh] == [("sent", "sent 200")]
    old = [n for n in _notices(sessions, "assigned") if n.created_at < now]
    assert all(n.delivered_at is None for n in old), "a notice older than a day is not sent"


def test_due_soon_scan_runs_at_most_every_30_seconds(sessions: sessionmaker[Session]) -> None:
    """The worker's pass runs every few seconds under load; the window scan keeps its own pace."""
    setup_desk(sessions)
    save(sessions, [scored_mention("p1", created_at=TUESDAY)])
    scan_at = FIRST_DUE - timedelta(minutes=30, seconds=10)  # the clock is 10 s short of the window
    _sync(sessions, scan_at)
    _sync(sessions, scan_at + timedelta(seconds=20))  # in the window now, but scanned 20 s ago
    assert _notices(sessions, "due_soon") == []
    _sync(sessions, scan_at + timedelta(seconds=30))
    assert len(_notices(sessions, "due_soon")) == 1


def test_notify_command_tells_the_new_owner_by_email(sqlite_url: str) -> None:
    """`mentiondesk notify --once` as `up` runs it: a sync pass, then the e-mail."""
    from core.db.engine import make_engine, make_session_factory, migrate
    from tests.support import run_cli

    migrate(sqlite_url)
    engine = make_engine(sqlite_url)
    sessions = make_session_factory(engine)
    setup_desk(sessions)
    with sessions.begin() as session:
        for name in ("anna", "boris"):
            set_contacts(session, actor(name), name, email=f"{name}@example.test", telegram_chat_id=None)
    save(sessions, [scored_mention("fresh", created_at=datetime.now(UTC) - timedelta(minutes=1))])
    with smtp_server() as (port, inbox):
        done = run_cli(
            "notify",
            "--once",
            env={"MD_DATABASE_URL": sqlite_url, "MD_SMTP_HOST": "127.0.0.1", "MD_SMTP_PORT": str(port)},
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
    thread_id, owner = _owner(sessions, "fresh")
    engine.dispose()
    assigned = [m for m in inbox.messages if "is assigned to you" in str(m["Subject"])]
    assert [(m["To"], m["Subject"]) for m in assigned] == [
        (f"{owner}@example.test", f"[mentiondesk] Case {thread_id} is assigned to you")
    ]
