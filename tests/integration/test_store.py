"""The desk store on SQLite and PostgreSQL: migrations, idempotent concurrent saves, threads, export."""

from __future__ import annotations

import multiprocessing
import random
import threading
from datetime import UTC, datetime, timedelta

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from core.db.engine import (
    SchemaBehind,
    alembic_config,
    code_revision,
    database_revisions,
    make_engine,
    make_session_factory,
    migrate,
    require_current_schema,
)
from core.db.models import Author, Mention, Thread
from core.db.repository import (
    count_mentions,
    get_cursor,
    iter_mention_rows,
    iter_thread_rows,
    persist_batch,
    save_scored_mentions,
    set_cursor,
)
from core.db.tables import include_name, metadata
from schemas.scored import ScoredMention
from tests.factories import BASE_TIME, conversation, scored_mention


def _save(sessions: sessionmaker[Session], batch: list[ScoredMention]) -> int:
    with sessions() as session:
        inserted = save_scored_mentions(session, batch)
        session.commit()
    return inserted


def _threads(sessions: sessionmaker[Session]) -> dict[str, Thread]:
    with sessions() as session:
        return {t.thread_key: t for t in session.scalars(select(Thread))}


def test_migrations_match_models(engine: Engine, database_url: str) -> None:
    migrate(database_url)  # a second run is a no-op
    with engine.connect() as connection:
        opts = {"compare_type": True, "include_name": include_name}  # the FTS index is outside the metadata
        context = MigrationContext.configure(connection, opts=opts)
        assert compare_metadata(context, metadata) == []


def test_concurrent_migrate_on_empty_database(database_url: str) -> None:
    errors: list[BaseException] = []

    def run() -> None:
        try:
            migrate(database_url)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    workers = [threading.Thread(target=run) for _ in range(3)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert errors == []
    engine = make_engine(database_url)
    try:
        with make_session_factory(engine)() as session:
            assert count_mentions(session) == 0
    finally:
        engine.dispose()


def test_same_batch_twice_is_idempotent(sessions: sessionmaker[Session]) -> None:
    batch = conversation(n_threads=100, replies_per_thread=4)
    assert len(batch) == 500
    assert _save(sessions, batch) == 500
    assert _save(sessions, batch) == 0
    assert _save(sessions, batch[::-1][:50]) == 0
    with sessions() as session:
        assert count_mentions(session) == 500
        assert session.scalar(select(Author.id).where(Author.author_id == "ta0")) is not None
    threads = _threads(sessions)
    assert len(threads) == 100
    assert {t.message_count for t in threads.values()} == {5}
    expected_max = {f"t{i}": max(m.negativity for m in batch if m.thread_key == f"t{i}") for i in range(100)}
    assert {k: t.max_negativity for k, t in threads.items()} == pytest.approx(expected_max)


def test_duplicates_inside_one_batch_count_once(sessions: sessionmaker[Session]) -> None:
    post = scored_mention("p1")
    assert _save(sessions, [post, post, post]) == 1
    assert _threads(sessions)["p1"].message_count == 1


def test_thread_is_assembled_from_replies(sessions: sessionmaker[Session]) -> None:
    post = scored_mention("p1", text="root post", negativity=0.2, lang="en", created_at=BASE_TIME)
    replies = [
        scored_mention(f"r{i}", parent=post, negativity=n, created_at=BASE_TIME + timedelta(minutes=i + 1))
        for i, n in enumerate((0.9, 0.4, 0.6))
    ]
    assert _save(sessions, [post, replies[0]]) == 2
    assert _save(sessions, replies[1:]) == 2
    thread = _threads(sessions)["p1"]
    assert thread.message_count == 4
    assert thread.root_external_id == "p1"
    assert thread.lang == "en"
    assert thread.brand == "acme"
    assert thread.status == "new"
    assert thread.max_negativity == pytest.approx(0.9)
    assert thread.last_negativity == pytest.approx(0.6)
    assert thread.first_message_at == BASE_TIME
    assert thread.last_message_at == BASE_TIME + timedelta(minutes=3)
    assert thread.last_customer_message_at == BASE_TIME + timedelta(minutes=3)


def test_reply_before_parent(sessions: sessionmaker[Session]) -> None:
    post = scored_mention("p1", text="the post", negativity=0.1, lang="en", created_at=BASE_TIME)
    reply = scored_mention("r1", parent=post, text="the reply", negativity=0.8, lang="ru")
    assert _save(sessions, [reply]) == 1
    thread = _threads(sessions)["p1"]
    assert (thread.message_count, thread.root_external_id, thread.lang) == (1, "r1", "ru")
    assert _save(sessions, [post]) == 1
    thread = _threads(sessions)["p1"]
    assert thread.message_count == 2
    assert thread.root_external_id == "p1"
    assert thread.lang == "en"
    assert thread.first_message_at == BASE_TIME
    assert thread.max_negativity == pytest.approx(0.8)
    assert thread.last_negativity == pytest.approx(0.8)  # the reply is still the newest message
    with sessions() as session:
        rows = {r["thread_key"]: r for r in iter_thread_rows(session)}
    assert rows["p1"]["root_text"] == "the post"


def test_brand_answer_waits_and_customer_reopens(sessions: sessionmaker[Session]) -> None:
    post = scored_mention("p1", created_at=BASE_TIME)
    answer = scored_mention("b1", parent=post, is_brand=True, author_id="acme_official", negativity=0.05)
    _save(sessions, [post, answer])
    thread = _threads(sessions)["p1"]
    assert thread.status == "waiting"
    assert thread.last_brand_message_at == answer.created_at
    assert thread.max_negativity == pytest.approx(post.negativity)  # brand messages do not count

    with sessions.begin() as session:
        session.get_one(Thread, thread.id).status = "resolved"
    again = scored_mention("c2", parent=answer, thread_key="p1", negativity=0.95)
    _save(sessions, [again])
    thread = _threads(sessions)["p1"]
    assert thread.status == "open"
    assert thread.message_count == 3
    assert thread.max_negativity == pytest.approx(0.95)


def test_old_customer_message_does_not_reopen(sessions: sessionmaker[Session]) -> None:
    post = scored_mention("p1", created_at=BASE_TIME)
    late = scored_mention("c1", parent=post, created_at=BASE_TIME + timedelta(minutes=1))
    answer = scored_mention(
        "b1", parent=post, is_brand=True, author_id="acme", created_at=BASE_TIME + timedelta(minutes=10)
    )
    _save(sessions, [post, answer])
    _save(sessions, [late])  # collected late, but written before the brand answered
    thread = _threads(sessions)["p1"]
    assert thread.status == "waiting"
    assert thread.message_count == 3


def _run_concurrently(workers: int, target: object, *args: object) -> list[BaseException]:
    errors: list[BaseException] = []
    barrier = threading.Barrier(workers)

    def run(index: int) -> None:
        try:
            barrier.wait()
            target(index, *args)  # type: ignore[operator]
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    return errors


def test_concurrent_writers_with_overlapping_batches(database_url: str, engine: Engine) -> None:
    everything = conversation(n_threads=40, replies_per_thread=9)  # 400 mentions
    # each writer gets its own engine (as a separate worker process would) and 300 of the 400
    # mentions, overlapping the other's, shuffled, in batches of 25
    slices = [everything[:300], everything[100:]]
    inserted = [0, 0]

    def write(index: int) -> None:
        own = make_engine(database_url)
        try:
            mine = list(slices[index])
            random.Random(index).shuffle(mine)
            for start in range(0, len(mine), 25):
                inserted[index] += persist_batch(make_session_factory(own), mine[start : start + 25])
        finally:
            own.dispose()

    assert _run_concurrently(2, write) == []
    assert sum(inserted) == 400
    sessions = make_session_factory(engine)
    with sessions() as session:
        assert count_mentions(session) == 400
        keys = session.execute(select(Mention.source, Mention.external_id)).all()
        assert len(set(keys)) == 400
    threads = _threads(sessions)
    assert len(threads) == 40
    assert {t.message_count for t in threads.values()} == {10}
    for i in range(40):
        thread = threads[f"t{i}"]
        own = [m for m in everything if m.thread_key == f"t{i}"]
        assert thread.root_external_id == f"t{i}"
        assert thread.first_message_at == min(m.created_at for m in own)
        assert thread.last_message_at == max(m.created_at for m in own)
        assert thread.max_negativity == pytest.approx(max(m.negativity for m in own))


def test_concurrent_writers_same_batch(database_url: str, engine: Engine) -> None:
    batch = conversation(n_threads=20, replies_per_thread=4, prefix="s")
    inserted = [0, 0, 0]

    def write(index: int) -> None:
        own = make_engine(database_url)
        try:
            inserted[index] = persist_batch(make_session_factory(own), batch)
        finally:
            own.dispose()

    assert _run_concurrently(3, write) == []
    assert sorted(inserted) == [0, 0, 100]
    threads = _threads(make_session_factory(engine))
    assert {t.message_count for t in threads.values()} == {5}


def test_datetimes_read_back_utc_aware(sessions: sessionmaker[Session]) -> None:
    moscow = datetime(2026, 3, 1, 15, 30, tzinfo=UTC).astimezone(
        __import__("zoneinfo").ZoneInfo("Europe/Moscow")
    )
    _save(sessions, [scored_mention("p1", created_at=moscow)])
    with sessions() as session:
        mention = session.scalars(select(Mention)).one()
        for value in (mention.created_at, mention.collected_at, mention.scored_at, mention.stored_at):
            assert value.tzinfo is not None
            assert value.utcoffset() == timedelta(0)
        assert mention.created_at == datetime(2026, 3, 1, 15, 30, tzinfo=UTC)
        thread = session.scalars(select(Thread)).one()
        assert thread.first_message_at is not None
        assert thread.first_message_at.utcoffset() == timedelta(0)
        assert thread.created_at.utcoffset() == timedelta(0)
        # comparisons with aware parameters work in SQL too
        later = session.scalars(
            select(Mention.external_id).where(Mention.created_at > datetime(2026, 3, 1, 15, 0, tzinfo=UTC))
        ).all()
        assert later == ["p1"]


def test_naive_datetime_is_refused(sessions: sessionmaker[Session]) -> None:
    with sessions() as session, pytest.raises(Exception, match="naive datetime"):
        session.scalars(
            select(Mention).where(Mention.created_at > datetime(2026, 1, 1))  # noqa: DTZ001
        ).all()


def test_export_rows(sessions: sessionmaker[Session]) -> None:
    post = scored_mention("p1", text="Привет, **bold** <b>x</b>", negativity=0.7, lang="ru")
    reply = scored_mention("r1", parent=post, negativity=0.3, topics=("delivery",))
    _save(sessions, [reply, post])
    with sessions() as session:
        mentions = list(iter_mention_rows(session))
        threads = list(iter_thread_rows(session))
    assert [m["external_id"] for m in mentions] == ["p1", "r1"]
    first = mentions[0]
    assert first["source"] == "vk"
    assert first["thread_key"] == "p1"
    assert first["created_at"] == "2026-01-05T09:00:00Z"
    assert first["text"] == "Привет, **bold** <b>x</b>"
    assert first["lang"] == "ru"
    assert first["label"] == "negative"
    assert first["negativity"] == pytest.approx(0.7)
    assert first["author_name"] == post.author.name
    assert first["url"] == post.url
    assert first["model_version"] == "test-1"
    assert mentions[1]["topics"] == ["delivery"]
    assert mentions[1]["parent_external_id"] == "p1"
    assert len(threads) == 1
    thread = threads[0]
    assert thread["thread_key"] == "p1"
    assert thread["status"] == "new"
    assert thread["message_count"] == 2
    assert thread["first_message_at"] == "2026-01-05T09:00:00Z"
    assert thread["last_message_at"] == "2026-01-05T09:05:00Z"
    assert thread["max_negativity"] == pytest.approx(0.7)
    assert thread["root_text"] == post.text


def test_collector_cursors(sessions: sessionmaker[Session]) -> None:
    with sessions() as session:
        assert get_cursor(session, "vk", "group:1") is None
        set_cursor(session, "vk", "group:1", "100")
        set_cursor(session, "vk", "group:2", "7")
        session.commit()
    with sessions() as session:
        set_cursor(session, "vk", "group:1", "250")
        session.commit()
    with sessions() as session:
        assert get_cursor(session, "vk", "group:1") == "250"
        assert get_cursor(session, "vk", "group:2") == "7"
        assert get_cursor(session, "twitter", "group:1") is None


def test_empty_batch(sessions: sessionmaker[Session]) -> None:
    with sessions() as session:
        assert save_scored_mentions(session, []) == 0


def _write_in_process(database_url: str, batch: list[ScoredMention], seed: int) -> int:
    """A separate worker process: its own engine, shuffled small batches."""
    engine = make_engine(database_url)
    try:
        mine = list(batch)
        random.Random(seed).shuffle(mine)
        sessions = make_session_factory(engine)
        return sum(persist_batch(sessions, mine[i : i + 20]) for i in range(0, len(mine), 20))
    finally:
        engine.dispose()


def test_two_processes_with_overlapping_batches(database_url: str, engine: Engine) -> None:
    everything = conversation(n_threads=30, replies_per_thread=4, prefix="p")  # 150 mentions
    context = multiprocessing.get_context("spawn")
    with context.Pool(2) as pool:
        results = pool.starmap(
            _write_in_process, [(database_url, everything[:100], 1), (database_url, everything[50:], 2)]
        )
    assert sum(results) == 150
    with make_session_factory(engine)() as session:
        assert count_mentions(session) == 150
    threads = _threads(make_session_factory(engine))
    assert len(threads) == 30
    assert {t.message_count for t in threads.values()} == {5}


def test_the_migrations_have_one_head_and_a_fresh_database_is_stamped_with_it(sqlite_url: str) -> None:
    script = ScriptDirectory.from_config(alembic_config(sqlite_url))
    assert len(script.get_heads()) == 1, script.get_heads()
    with pytest.raises(SchemaBehind, match="run `mentiondesk migrate` first"):
        require_current_schema(sqlite_url)
    migrate(sqlite_url)
    assert database_revisions(sqlite_url) == {code_revision()} == set(script.get_heads())
    require_current_schema(sqlite_url)
