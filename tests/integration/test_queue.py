"""The queue query on SQLite and PostgreSQL: order, age, status filter, index use."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, insert, text
from sqlalchemy.orm import Session, sessionmaker

from desk.services.queue import _ranked_ids, queue_threads
from desk.store.engine import make_engine, make_session_factory, migrate
from desk.store.models import Thread
from desk.store.repository import save_scored_mentions
from tests.factories import BASE_TIME, scored_mention

NOW = BASE_TIME + timedelta(hours=3)


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    migrate(database_url)
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def sessions(engine: Engine) -> sessionmaker[Session]:
    return make_session_factory(engine)


def _set_status(sessions: sessionmaker[Session], thread_key: str, status: str) -> None:
    with sessions.begin() as session:
        session.execute(
            text("UPDATE threads SET status = :s WHERE thread_key = :k"), {"s": status, "k": thread_key}
        )


@pytest.fixture
def populated(sessions: sessionmaker[Session]) -> sessionmaker[Session]:
    posts = [
        scored_mention("calm", negativity=0.1, created_at=BASE_TIME, author_name="Ann"),
        scored_mention("angry_new", negativity=0.9, created_at=BASE_TIME + timedelta(hours=2)),
        scored_mention("angry_old", negativity=0.9, created_at=BASE_TIME + timedelta(hours=1)),
        scored_mention("middle", negativity=0.5, created_at=BASE_TIME + timedelta(minutes=30), lang="en"),
        scored_mention("done", negativity=1.0, created_at=BASE_TIME),
        scored_mention("answered", negativity=0.95, created_at=BASE_TIME),
    ]
    # a reply raises its thread's negativity above its post's
    reply = scored_mention("calm_r", parent=posts[0], negativity=0.7)
    with sessions.begin() as session:
        save_scored_mentions(session, [*posts, reply])
    _set_status(sessions, "done", "resolved")
    _set_status(sessions, "answered", "waiting")
    _set_status(sessions, "middle", "open")
    return sessions


def test_most_negative_first_then_oldest(populated: sessionmaker[Session]) -> None:
    with populated() as session:
        items = queue_threads(session, now=NOW)
    assert [i.thread_key for i in items] == ["angry_old", "angry_new", "calm", "middle"]
    calm = items[2]
    assert calm.text == "mention calm"
    assert calm.author == "Ann"
    assert calm.negativity == pytest.approx(0.7)
    assert calm.message_count == 2
    assert calm.source == "vk"
    assert calm.brand == "acme"
    assert calm.status == "new"
    assert items[3].lang == "en"
    assert items[3].status == "open"


def test_age(populated: sessionmaker[Session]) -> None:
    with populated() as session:
        items = {i.thread_key: i for i in queue_threads(session, now=NOW)}
    assert items["calm"].age == timedelta(hours=3)
    assert items["angry_new"].age == timedelta(hours=1)
    assert items["calm"].first_message_at == BASE_TIME
    assert items["calm"].first_message_at.tzinfo is not None
    with populated() as session:
        before = queue_threads(session, now=BASE_TIME - timedelta(days=1))
    assert {i.age for i in before} == {timedelta(0)}


def test_age_defaults_to_now(populated: sessionmaker[Session]) -> None:
    with populated() as session:
        items = queue_threads(session)
    assert all(i.age >= datetime.now(UTC) - NOW for i in items)


def test_status_filter_and_limit(populated: sessionmaker[Session]) -> None:
    with populated() as session:
        assert [i.thread_key for i in queue_threads(session, statuses=("waiting",))] == ["answered"]
        assert [i.thread_key for i in queue_threads(session, statuses=("resolved", "waiting"))] == [
            "done",
            "answered",
        ]
        assert [i.thread_key for i in queue_threads(session, statuses=("open",))] == ["middle"]
        assert [i.thread_key for i in queue_threads(session, limit=2)] == ["angry_old", "angry_new"]
        assert queue_threads(session, statuses=()) == []
        assert queue_threads(session, statuses=("closed",)) == []


def test_empty_queue(sessions: sessionmaker[Session]) -> None:
    with sessions() as session:
        assert queue_threads(session) == []


def test_large_queue_uses_the_index(engine: Engine, sessions: sessionmaker[Session]) -> None:
    statuses = ("new", "open", "waiting", "resolved", "closed", "closed", "closed")
    rows = [
        {
            "source": "vk",
            "thread_key": f"k{i}",
            "status": statuses[i % len(statuses)],
            "message_count": 1,
            "max_negativity": (i * 7919 % 10_000) / 10_000,
            "first_message_at": BASE_TIME + timedelta(seconds=i),
            "root_external_id": f"k{i}",
        }
        for i in range(100_000)
    ]
    with sessions.begin() as session:
        session.execute(insert(Thread), rows)
    with sessions() as session:
        if engine.dialect.name == "postgresql":
            session.execute(text("ANALYZE threads"))
        items = queue_threads(session, now=NOW)
    assert len(items) == 200
    keys = [(-i.negativity, i.first_message_at) for i in items]
    assert keys == sorted(keys)
    assert {i.status for i in items} <= {"new", "open"}

    ranked = _ranked_ids("new", 200).compile(dialect=engine.dialect, compile_kwargs={"literal_binds": True})
    explain = "EXPLAIN QUERY PLAN " if engine.dialect.name == "sqlite" else "EXPLAIN "
    with engine.connect() as connection:
        plan = " ".join(str(row) for row in connection.execute(text(explain + str(ranked))))
    assert "ix_threads_queue" in plan
    assert "TEMP B-TREE" not in plan and "Sort" not in plan
