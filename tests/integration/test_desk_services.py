"""The desk's services on SQLite and PostgreSQL: ownership, routing, clocks, replies, collisions,
merges, corrections and the audit log."""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from core.db import outbox
from core.db.engine import make_session_factory
from core.db.models import Thread
from core.db.models_desk import (
    ClockEvent,
    DeskShift,
    DeskThread,
    DeskUser,
    RoutingRule,
    SentimentCorrection,
)
from core.db.models_ingest import Reply
from core.db.repository_ingest import apply_reply_result
from desk.services import audit
from desk.services.auth import PermissionDenied
from desk.services.corrections import correct_label, training_examples
from desk.services.replies import StaleThread, retry_reply, send_reply
from desk.services.reply_outcome import settle_result
from desk.services.sync import record_misses, sync_threads
from desk.services.thread_view import snapshot
from desk.services.threads import assign, merge, set_status, suggest_duplicates, unmerge
from desk.services.worklist import QueueFilters, desk_queue
from schemas import ReplyResult
from tests.desk_support import actor, add_users, save, setup_desk
from tests.factories import scored_mention

TUESDAY = datetime(2026, 11, 17, 10, 0, tzinfo=UTC)


def _sync(sessions: sessionmaker[Session], now: datetime) -> None:
    with sessions.begin() as session:
        sync_threads(session, now)


def _thread_id(session: Session, key: str) -> int:
    return int(session.scalar(select(Thread.id).where(Thread.thread_key == key)) or 0)


def test_every_new_thread_gets_an_owner_within_caps(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        add_users(
            session,
            [
                ("vk1", "agent", "vk", 5),
                ("vk2", "agent", "vk", 5),
                ("vk3", "agent", "vk", 5),  # never on shift now
                ("vklead", "manager", "vk", 0),
                ("en1", "agent", "english", 4),
                ("en2", "agent", "english", 4),
                ("vip1", "agent", "vip", 3),
            ],
        )
        session.add_all(
            [
                RoutingRule(position=1, team="vip", vip_authors="@bigshot, ceo42", active=True),
                RoutingRule(position=2, team="english", lang="en", active=True),
                RoutingRule(position=3, team="vk", source="vk", active=True),
                RoutingRule(position=4, team="english", keywords="refund, возврат", active=True),
                DeskShift(username="vk3", weekday=6, start_min=0, end_min=60),
            ]
        )
    posts = [
        scored_mention(f"p{i}", created_at=TUESDAY - timedelta(minutes=i), lang="ru", author_id=f"c{i}")
        for i in range(14)
    ]
    posts += [scored_mention(f"e{i}", lang="en", source="twitter", author_id=f"x{i}") for i in range(6)]
    posts += [scored_mention("v1", author_id="bigshot", lang="en"), scored_mention("v2", author_id="ceo42")]
    posts += [scored_mention("k1", source="twitter", text="Хочу возврат денег", lang="ru")]
    save(sessions, posts)
    _sync(sessions, TUESDAY)
    with sessions() as session:
        owners = {k: v for k, v in session.execute(select(Thread.thread_key, Thread.assigned_to))}
        users = {u.username: u for u in session.scalars(select(DeskUser))}
        on_desk = select(Thread.thread_key, DeskThread.team).join(
            DeskThread, DeskThread.thread_id == Thread.id
        )
        teams = {k: v for k, v in session.execute(on_desk)}
    assert all(owners.values()), "every thread has an owner"
    assert len(owners) == 23
    loads: dict[str, int] = {}
    for owner in owners.values():
        assert owner is not None
        loads[owner] = loads.get(owner, 0) + 1
    for name, load in loads.items():
        if users[name].role == "agent":
            assert load <= users[name].cap, f"{name} over the cap"
    assert "vk3" not in loads, "off shift"
    assert loads["vk1"] == loads["vk2"] == 5 and loads["vklead"] == 4, "round-robin, then overflow"
    assert owners["v1"] == owners["v2"] == "vip1" and teams["v1"] == "vip"
    assert {owners[f"e{i}"] for i in range(6)} == {"en1", "en2"} and owners["k1"] in ("en1", "en2")
    with sessions() as session:
        assigned = audit.entries(session, actions=["assign"])
    assert len(assigned) == 23 and {e.actor for e in assigned} == {"system"}


def _network_answers(
    sessions: sessionmaker[Session], reply_id: str, status: str, at: datetime, error: str | None = None
) -> None:
    """What the publisher does with the network's answer: the result, then the case settled."""
    with sessions.begin() as session:
        result = ReplyResult(reply_id=uuid.UUID(reply_id), status=status, error=error, at=at)
        apply_reply_result(session, result)
        settle_result(session, result)


def test_reply_waits_a_new_customer_message_reopens_with_a_new_clock(sessions: sessionmaker[Session]) -> None:
    setup_desk(sessions)
    post = scored_mention("p1", created_at=TUESDAY, negativity=0.9)
    save(sessions, [post])
    _sync(sessions, TUESDAY)
    anna = actor("anna")
    with sessions() as session:
        tid = _thread_id(session, "p1")
        opened = snapshot(session, tid)
        reply = send_reply(
            session, anna, tid, "Sorry, we are on it", opened, now=TUESDAY + timedelta(hours=1)
        )
    with sessions() as session:
        thread, desk = session.get(Thread, tid), session.get(DeskThread, tid)
        assert thread is not None and desk is not None
        assert thread.status == "new" and desk.first_response_at is None, "not answered until confirmed"
        row = session.get(Reply, str(reply.reply_id))
        assert row is not None and row.status == "queued" and row.in_reply_to == "p1"
        assert outbox.pending(session) == 1, "recorded with its outbox row"
        [item] = desk_queue(session, anna, now=TUESDAY + timedelta(hours=1))
        assert item.reply_state == "pending"

    confirmed = TUESDAY + timedelta(hours=1, minutes=2)
    _network_answers(sessions, str(reply.reply_id), "sent", confirmed)
    with sessions() as session:
        thread, desk = session.get(Thread, tid), session.get(DeskThread, tid)
        assert thread is not None and desk is not None
        assert thread.status == "waiting" and desk.first_response_at == confirmed
        assert desk.cycle == 1 and desk.paused_at is not None
        assert outbox.pending(session) == 0
    _sync(sessions, confirmed)  # the sync pass's settlement finds nothing left to apply
    with sessions() as session:
        hits = session.scalar(
            select(func.count())
            .select_from(ClockEvent)
            .where(ClockEvent.event == "hit", ClockEvent.thread_id == tid)
        )
        assert hits == 1, "the answer counted once"

    # waiting on the customer for a week: no clock breaches
    week_later = TUESDAY + timedelta(days=7)
    with sessions.begin() as session:
        assert record_misses(session, week_later) == 0

    again = scored_mention("c1", parent=post, created_at=TUESDAY + timedelta(days=2, hours=1), negativity=0.7)
    save(sessions, [again])
    _sync(sessions, TUESDAY + timedelta(days=2, hours=1, minutes=1))
    with sessions() as session:
        thread, desk = session.get(Thread, tid), session.get(DeskThread, tid)
        assert thread is not None and desk is not None
        assert thread.status == "open"
        assert desk.cycle == 2, "a reopened thread starts a new clock"
        assert desk.cycle_started_at == again.created_at
        assert desk.first_response_at is None and desk.first_response_due == again.created_at.replace(
            hour=18, minute=0
        )
        events = list(
            session.scalars(select(ClockEvent).where(ClockEvent.thread_id == tid).order_by(ClockEvent.id))
        )
    assert ("first_response", "hit", 1) in {(e.clock, e.event, e.cycle) for e in events}
    assert ("first_response", "started", 2) in {(e.clock, e.event, e.cycle) for e in events}
    with sessions.begin() as session:
        assert record_misses(session, week_later) == 2  # open again: first response and resolution ran out
        assert record_misses(session, week_later) == 0  # once each


def test_second_stale_reply_is_refused_with_the_reason(sessions: sessionmaker[Session]) -> None:
    setup_desk(sessions)
    save(sessions, [scored_mention("p1", created_at=TUESDAY, text="my parcel is lost")])
    _sync(sessions, TUESDAY)
    with sessions() as session:
        tid = _thread_id(session, "p1")
        seen_by_anna = snapshot(session, tid)
        seen_by_boris = snapshot(session, tid)
    with sessions() as session:
        send_reply(session, actor("anna"), tid, "We are looking for it", seen_by_anna, now=TUESDAY)
    with sessions() as session, pytest.raises(StaleThread) as refused:
        send_reply(session, actor("boris"), tid, "Hello! Checking", seen_by_boris, now=TUESDAY)
    assert any("anna replied" in c and "We are looking for it" in c for c in refused.value.changes)
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(Reply)) == 1, (
            "only the first reply was recorded"
        )
        with pytest.raises(ValueError, match="at most 10,000 characters; this one has 10,001"):
            send_reply(session, actor("boris"), tid, "x" * 10_001, snapshot(session, tid), now=TUESDAY)


def test_a_failed_reply_puts_the_case_back_in_the_queue_and_can_be_sent_again(
    sessions: sessionmaker[Session],
) -> None:
    setup_desk(sessions)
    save(sessions, [scored_mention("p1", created_at=TUESDAY, negativity=0.8)])
    _sync(sessions, TUESDAY)
    anna = actor("anna")
    with sessions() as session:
        tid = _thread_id(session, "p1")
        first = send_reply(session, anna, tid, "We are on it", snapshot(session, tid), now=TUESDAY)
    _network_answers(sessions, str(first.reply_id), "sent", TUESDAY + timedelta(minutes=1))
    with sessions() as session:
        second = send_reply(
            session,
            anna,
            tid,
            "Refund is on its way",
            snapshot(session, tid),
            now=TUESDAY + timedelta(hours=2),
        )
    _network_answers(
        sessions, str(second.reply_id), "failed", TUESDAY + timedelta(hours=2, minutes=1), "VK error 15"
    )
    with sessions() as session:
        thread = session.get(Thread, tid)
        assert thread is not None and thread.status == "open", "the customer did not get the update"
        [item] = desk_queue(session, anna, now=TUESDAY + timedelta(hours=3))
        assert item.thread_id == tid and item.reply_state == "failed"
        assert [e.action for e in audit.entries(session, actions=["reply_failed"])] == ["reply_failed"]
        again = retry_reply(session, anna, str(second.reply_id), now=TUESDAY + timedelta(hours=3))
        assert again.reply_id == second.reply_id, "the same id: the network is asked before posting"
    with sessions() as session:
        row = session.get(Reply, str(second.reply_id))
        assert row is not None and row.status == "queued" and row.error is None
        assert outbox.pending(session) == 1
        with pytest.raises(ValueError, match="only a failed reply"):
            retry_reply(session, anna, str(first.reply_id))


def test_queue_orders_by_priority_and_scopes(sessions: sessionmaker[Session]) -> None:
    setup_desk(sessions)
    save(
        sessions,
        [
            scored_mention("old-calm", created_at=TUESDAY - timedelta(hours=1), negativity=0.1),
            scored_mention("new-angry", created_at=TUESDAY, negativity=0.95),
            scored_mention(
                "yesterday", created_at=TUESDAY - timedelta(days=1), negativity=0.1, source="twitter"
            ),
        ],
    )
    _sync(sessions, TUESDAY)
    with sessions() as session:
        manager = actor("maria", "manager", "support")
        items = desk_queue(session, manager, now=TUESDAY)
        assert [i.text for i in items] == ["mention yesterday", "mention new-angry", "mention old-calm"]
        assert items[0].time_left is not None and items[0].time_left < timedelta(0), (
            "yesterday's clock ran out"
        )
        assert items[1].clock == "first response" and items[1].time_left == timedelta(hours=8)
        mine = desk_queue(session, actor("anna", team="support"), scope="mine", now=TUESDAY)
        assert mine and all(i.owner == "anna" for i in mine)
        assert desk_queue(session, manager, scope="unassigned", now=TUESDAY) == []
        assert len(desk_queue(session, manager, scope="team", now=TUESDAY)) == 3
        only = desk_queue(session, manager, filters=QueueFilters(sources=("twitter",)), now=TUESDAY)
        assert [i.source for i in only] == ["twitter"]
        angry = desk_queue(session, manager, filters=QueueFilters(min_negativity=0.5), now=TUESDAY)
        assert [i.text for i in angry] == ["mention new-angry"]
        ids = [i.thread_id for i in items]
        with pytest.raises(PermissionDenied):
            assign(session, actor("anna"), ids, "boris")
        assert assign(session, manager, ids, "boris") >= 1
        session.commit()
        assert {i.owner for i in desk_queue(session, manager, now=TUESDAY)} == {"boris"}


def test_merge_unmerge_duplicates_and_corrections(sessions: sessionmaker[Session]) -> None:
    setup_desk(sessions)
    text = "Курьер опоздал на три часа и нагрубил, заказ 5531 так и не привезли"
    save(
        sessions,
        [
            scored_mention("vk-1", source="vk", text=text, author_id="a1", created_at=TUESDAY),
            scored_mention("tw-1", source="twitter", text=text + "!!", author_id="t9", created_at=TUESDAY),
            scored_mention("vk-2", source="vk", text="другое", author_id="a1", created_at=TUESDAY),
            scored_mention("vk-3", source="vk", text="совсем другое", author_id="zz", created_at=TUESDAY),
        ],
    )
    _sync(sessions, TUESDAY)
    anna = actor("anna")
    with sessions() as session:
        ids = {k: _thread_id(session, k) for k in ("vk-1", "tw-1", "vk-2", "vk-3")}
        suggested = {s.thread_id: s.reason for s in suggest_duplicates(session, ids["vk-1"])}
        assert suggested.keys() == {ids["tw-1"], ids["vk-2"]}
        assert suggested[ids["vk-2"]] == "same author" and suggested[ids["tw-1"]].startswith("similar text")
        merge(session, anna, ids["vk-1"], ids["tw-1"])
        session.commit()
        assert session.get(Thread, ids["tw-1"]).status == "closed"  # type: ignore[union-attr]
        assert ids["tw-1"] not in {i.thread_id for i in desk_queue(session, anna, now=TUESDAY)}
        unmerge(session, anna, ids["tw-1"])
        session.commit()
        assert session.get(Thread, ids["tw-1"]).status == "new"  # type: ignore[union-attr]
        mention_id = session.scalar(select(func.min(SentimentCorrection.id)))
        from core.db.models import Mention

        mention = session.scalar(select(Mention).where(Mention.external_id == "vk-3"))
        assert mention is not None and mention_id is None
        correct_label(session, anna, mention.id, "negative")
        set_status(session, anna, ids["vk-3"], "resolved", now=TUESDAY + timedelta(hours=2))
        session.commit()
        assert training_examples(session) == [("совсем другое", "negative")]
        actions = [(e.actor, e.action) for e in audit.entries(session)]
    assert ("anna", "merge") in actions and ("anna", "unmerge") in actions
    assert ("anna", "correction") in actions and ("anna", "status") in actions


def test_the_workers_write_path_gives_every_new_thread_an_owner(database_url: str, engine: Engine) -> None:
    from desk.services.sync import sync_threads
    from sentiment.persistence import MentionWriter

    sessions = make_session_factory(engine)
    setup_desk(sessions)
    writer = MentionWriter(sessions, after_save=sync_threads)
    try:
        for batch in range(5):
            posts = [scored_mention(f"w{batch}-{i}", created_at=TUESDAY) for i in range(20)]
            replies = [scored_mention(f"w{batch}-{i}-r", parent=posts[i]) for i in range(0, 20, 3)]
            assert writer.save(posts + replies).inserted == 27
    finally:
        writer.close()
    with sessions() as session:
        owners = list(session.scalars(select(Thread.assigned_to)))
        on_desk = session.scalar(select(func.count()).select_from(DeskThread))
    assert len(owners) == 100 and all(owners) and on_desk == 100
    assert {owners.count("anna"), owners.count("boris")} == {50}, "round-robin, evenly"


def test_the_workers_routing_pass_runs_at_most_once_per_interval(database_url: str, engine: Engine) -> None:
    from desk.services.sync import sync_threads
    from sentiment.persistence import MentionWriter

    sessions = make_session_factory(engine)
    setup_desk(sessions)
    now = [100.0]
    writer = MentionWriter(sessions, after_save=sync_threads, sync_interval_s=2.0, clock=lambda: now[0])

    def on_desk() -> int:
        with sessions() as session:
            return int(session.scalar(select(func.count()).select_from(DeskThread)) or 0)

    try:
        writer.save([scored_mention(f"t1-{i}", created_at=TUESDAY) for i in range(3)])
        assert on_desk() == 3 and not writer.unsynced, "the first batch is routed at once"
        now[0] += 0.5
        writer.save([scored_mention(f"t2-{i}", created_at=TUESDAY) for i in range(4)])
        assert on_desk() == 3 and writer.unsynced, "a batch inside the interval waits"
        assert writer.sync_if_due() is False
        now[0] += 2.0
        assert writer.sync_if_due() is True
        assert on_desk() == 7 and not writer.unsynced
        writer.save([scored_mention(f"t3-{i}", created_at=TUESDAY) for i in range(2)])
    finally:
        writer.close()
    assert on_desk() == 9, "closing the writer routes what is still waiting"


def test_a_routing_pass_reads_only_the_threads_that_changed(sessions: sessionmaker[Session]) -> None:
    setup_desk(sessions)
    posts = [scored_mention(f"c{i}", created_at=TUESDAY, negativity=0.2) for i in range(30)]
    save(sessions, posts)

    def sync(at: datetime) -> tuple[int, int]:
        with sessions.begin() as session:
            stats = sync_threads(session, at)
        return stats.examined, stats.created

    def rank_of(key: str) -> datetime | None:
        with sessions() as session:
            return session.scalar(
                select(DeskThread.rank_at)
                .join(Thread, Thread.id == DeskThread.thread_id)
                .where(Thread.thread_key == key)
            )

    assert sync(TUESDAY + timedelta(minutes=1)) == (30, 30)
    assert sync(TUESDAY + timedelta(minutes=2)) == (0, 0), "nothing changed: nothing is read again"
    save(sessions, [scored_mention("c0-r", parent=posts[0])])
    assert sync(TUESDAY + timedelta(minutes=3)) == (1, 0), "a new message: that thread only"
    calm_rank = rank_of("c1")
    assert calm_rank is not None
    # An older, angrier message reaches thread c1 late: its last message's time stays the same.
    save(
        sessions,
        [
            scored_mention(
                "c1-early",
                thread_key="c1",
                created_at=TUESDAY - timedelta(minutes=5),
                negativity=0.97,
            )
        ],
    )
    assert sync(TUESDAY + timedelta(minutes=4)) == (1, 0)
    angry_rank = rank_of("c1")
    assert angry_rank is not None and angry_rank < calm_rank, "the higher negativity moves it up"
    assert sync(TUESDAY + timedelta(minutes=5)) == (0, 0)


def test_threads_wait_for_the_desks_first_user_without_being_read_on_every_pass(
    sessions: sessionmaker[Session],
) -> None:
    save(sessions, [scored_mention(f"u{i}", created_at=TUESDAY) for i in range(12)])

    def sync(at: datetime) -> tuple[int, int, int]:
        with sessions.begin() as session:
            stats = sync_threads(session, at)
        return stats.examined, stats.created, stats.assigned

    assert sync(TUESDAY + timedelta(minutes=1)) == (12, 12, 0), "on the desk, nobody to own them"
    assert sync(TUESDAY + timedelta(minutes=2)) == (0, 0, 0)
    setup_desk(sessions)
    assert sync(TUESDAY + timedelta(minutes=3)) == (12, 0, 12), "the first users get them all"
    assert sync(TUESDAY + timedelta(minutes=4)) == (0, 0, 0)


def test_two_sends_on_one_thread_at_the_same_moment_record_one_reply(
    sessions: sessionmaker[Session],
) -> None:
    """Two agents press Send on the same version at once, from two threads: one reply is recorded
    (with one outbox row), the other is refused as stale; never two."""
    setup_desk(sessions)
    save(sessions, [scored_mention("p1", created_at=TUESDAY)])
    _sync(sessions, TUESDAY)
    with sessions() as session:
        tid = _thread_id(session, "p1")
        opened = snapshot(session, tid)
    start = threading.Barrier(2)
    outcomes: dict[str, str] = {}

    def press_send(name: str) -> None:
        with sessions() as session:
            start.wait()
            try:
                send_reply(session, actor(name), tid, f"Hello from {name}", opened, now=TUESDAY)
            except StaleThread:
                outcomes[name] = "refused"
            else:
                outcomes[name] = "sent"

    workers = [threading.Thread(target=press_send, args=(name,)) for name in ("anna", "boris")]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(30)
    assert sorted(outcomes.values()) == ["refused", "sent"], outcomes
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(Reply)) == 1
        assert outbox.pending(session) == 1
