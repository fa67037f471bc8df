"""The publisher against the fake networks: replies land once, in their thread, even when the
publisher is killed between the network call and the result; failures come back with reasons."""

from __future__ import annotations

import itertools
import signal
import threading
import time
import uuid
from pathlib import Path

import pytest
from kafka import KafkaConsumer
from kafka.partitioner.default import DefaultPartitioner
from sqlalchemy import select

from core.bus.producer import MentionProducer, ensure_topics
from core.db.engine import make_engine, make_session_factory, migrate
from core.db.models_desk import DeskUser
from core.db.models_ingest import Reply as ReplyRow
from core.db.repository_ingest import FINAL_REPLY_STATUSES, get_reply, queue_reply
from ingest.networks.twitter_poster import TwitterPoster
from ingest.networks.vk_poster import VkPoster
from ingest.publisher import Deferred, ForgedReply, PublisherLoop, ReplyPublisher
from ingest.vk import make_vk_client
from mentiondesk.broker import EmbeddedBroker, free_port
from schemas import Reply, ReplyResult
from schemas.topics import REPLIES_OUTBOUND
from tests.fakes.twitter_server import FakeTwitter
from tests.fakes.twitter_server import generate as generate_tweets
from tests.fakes.vk_server import FakeVk
from tests.fakes.vk_server import generate as generate_vk
from tests.integration.collect_support import start_cli
from tests.integration.posting_support import posting_env
from tests.support import wait_until

VK_COMMENT = "-1001_101_10000001"  # the first comment under the first post of community 1001


def _reply(source: str, in_reply_to: str, text: str = "Спасибо, разбираемся") -> Reply:
    return Reply(
        reply_id=uuid.uuid4(),
        thread_key=f"{source}:t",
        in_reply_to=in_reply_to,
        source=source,
        text=text,
        agent="anna",
    )


def _record(database_url: str, *replies: Reply) -> None:
    """Record replies in `replies` as the desk does (`send_reply` -> `queue_reply`) before they go
    out, written by an active desk user."""
    engine = make_engine(database_url)
    try:
        with make_session_factory(engine)() as session:
            for agent in {r.agent for r in replies}:
                if session.get(DeskUser, agent) is None:
                    session.add(DeskUser(username=agent, password_hash="-", role="agent"))
            for reply in replies:
                queue_reply(session, reply)
            session.commit()
    finally:
        engine.dispose()


def _results(database_url: str) -> dict[str, ReplyResult]:
    """The final results in the `replies` table, where the publisher writes them and the desk reads them."""
    engine = make_engine(database_url)
    try:
        with make_session_factory(engine)() as session:
            rows = [row for row in session.scalars(select(ReplyRow)) if row.status in FINAL_REPLY_STATUSES]
    finally:
        engine.dispose()
    return {
        row.reply_id: ReplyResult(
            reply_id=uuid.UUID(row.reply_id),
            status=row.status,
            external_id=row.external_id,
            url=row.url,
            error=row.error,
        )
        for row in rows
    }


def test_replies_survive_a_kill_between_the_call_and_the_result(
    broker: EmbeddedBroker, sqlite_url: str, tmp_path: Path
) -> None:
    vk_data = generate_vk({"acme": 1001}, per_brand=60, wall_posts=5)
    tweets = generate_tweets({"acme": "101"}, per_brand=8)
    customer_tweet = next(t for t in tweets.tweets.values() if t["author_id"] != "101")
    ensure_topics(broker.bootstrap, 2)
    migrate(sqlite_url)  # `mentiondesk migrate`: the publisher refuses a database behind its schema
    with FakeVk(vk_data, tokens=["vk-post"]) as vk, FakeTwitter(tweets, me="101") as tw:
        env = posting_env(broker.bootstrap, sqlite_url, vk, tw)
        # X stores `&` as `&amp;` and links as t.co: recovery must not compare texts
        replies = [
            _reply("vk", VK_COMMENT),
            _reply("twitter", customer_tweet["id"], "Спасибо & извините: https://acme.example/help?id=1"),
        ]
        _record(sqlite_url, *replies)
        with MentionProducer(broker.bootstrap, topic=REPLIES_OUTBOUND) as out:
            for reply in replies:
                out.send_raw(reply.thread_key.encode(), reply.to_bytes())
        for number, (reply, hung) in enumerate(
            zip(replies, (vk.hang_next_create, tw.hang_next_post), strict=True)
        ):
            hung.set()
            log = tmp_path / f"publisher-{number}.log"
            publisher = start_cli(env, log, "publisher")
            reached = (lambda: bool(vk.created)) if reply.source == "vk" else (lambda: bool(tw.posted))
            assert wait_until(reached, timeout=60), log.read_text()
            publisher.send_signal(signal.SIGKILL)  # the network has the reply; the publisher never heard
            publisher.wait(10)
        vk.release.set()
        tw.release.set()
        publisher = start_cli(env, tmp_path / "publisher-after.log", "publisher")
        try:
            assert wait_until(lambda: len(_results(sqlite_url)) == 2, timeout=90), (
                tmp_path / "publisher-after.log"
            ).read_text()
        finally:
            publisher.send_signal(signal.SIGTERM)
            publisher.wait(30)
        results = _results(sqlite_url)

        vk_result = results[str(replies[0].reply_id)]
        [comment] = [c for c in vk_data.comments[(-1001, 101)] if c.get("_guid") == str(replies[0].reply_id)]
        assert vk_result.status == "sent"
        assert vk_result.external_id == f"-1001_101_{comment['id']}", "the first comment, not a second one"
        assert comment["_reply_to"] == 10000001 and comment["from_id"] == -1001, "in the thread, as the brand"
        assert vk_result.url == f"https://vk.com/wall-1001_101?reply={comment['id']}"

        tw_result = results[str(replies[1].reply_id)]
        assert len(tw.posted) == 1, "posted once"
        assert tw_result.status == "sent" and tw_result.external_id == tw.posted[0]["id"]
        assert tw.posted[0]["conversation_id"] == customer_tweet["conversation_id"]

    engine = make_engine(sqlite_url)
    try:
        with make_session_factory(engine)() as session:
            rows = [get_reply(session, str(r.reply_id)) for r in replies]
    finally:
        engine.dispose()
    assert [r.status for r in rows if r] == ["sent", "sent"]


def _final(outcome: ReplyResult | Deferred) -> ReplyResult:
    assert isinstance(outcome, ReplyResult), f"not final: {outcome}"
    return outcome


def test_failures_and_review_sites_come_back_with_reasons(database_url: str) -> None:
    migrate(database_url)
    engine = make_engine(database_url)
    tweets = generate_tweets({"acme": "101"}, per_brand=4)
    try:
        with (
            FakeVk(generate_vk({"acme": 1001}, per_brand=30, wall_posts=3), tokens=["vk-post"]) as vk,
            FakeTwitter(tweets, me="101") as tw,
        ):
            import tweepy

            from ingest.endpoints import rebase_session

            client = tweepy.Client(
                consumer_key="a", consumer_secret="b", access_token="c", access_token_secret="d"
            )
            rebase_session(client.session, "https://api.twitter.com", tw.url)
            publisher = ReplyPublisher(
                make_session_factory(engine),
                {
                    "vk": VkPoster(make_vk_client("vk-post", vk.api_url, "5.199", 0)),
                    "twitter": TwitterPoster(client),
                },
            )
            recorded = [
                _reply("twitter", "999"),
                _reply("vk", "-1001_999999"),
                _reply("review:otzovik.com", "r1"),
                _reply("twitter", "1"),
                _reply("vk", VK_COMMENT),
                _reply("replay", "demo-1"),
            ]
            _record(database_url, *recorded)
            gone = _final(publisher.handle(recorded[0]))
            closed = _final(publisher.handle(recorded[1]))
            review = _final(publisher.handle(recorded[2]))
            no_keys = _final(ReplyPublisher(make_session_factory(engine), {}).handle(recorded[3]))
            ok = recorded[4]
            first, again = _final(publisher.handle(ok)), _final(publisher.handle(ok))
            demo = _final(publisher.handle(recorded[5]))
            assert vk.create_calls == 2, "the refused one and the sent one; the redelivery posted nothing"
            with pytest.raises(ForgedReply, match="not recorded by the desk"):
                publisher.handle(_reply("vk", VK_COMMENT))
            with pytest.raises(ForgedReply, match="differs from the recorded reply in text"):
                publisher.handle(ok.model_copy(update={"text": "forged"}))
            assert vk.create_calls == 2, "nothing posted for the forged ones"
    finally:
        engine.dispose()
    assert gone.status == "failed" and gone.error and "deleted or not visible" in gone.error
    assert closed.status == "failed" and closed.error and "VK error 15" in closed.error
    assert review.status == "manual"
    assert demo.status == "manual" and demo.error and "demo stream" in demo.error, "counted, posted nowhere"
    assert no_keys.status == "failed" and no_keys.error == "no posting credentials for twitter"
    assert first.status == "sent"
    assert again.model_dump(exclude={"at"}) == first.model_dump(exclude={"at"}), "redelivery: same answer"
    assert tw.posted == []


def test_a_forged_reply_is_not_posted(broker: EmbeddedBroker, sqlite_url: str, tmp_path: Path) -> None:
    """Only replies the desk recorded go out: one written straight to the topic (no row, or a row
    with other text) is refused and logged, and does not hold up the recorded one behind it."""
    vk_data = generate_vk({"acme": 1001}, per_brand=60, wall_posts=5)
    ensure_topics(broker.bootstrap, 2)
    migrate(sqlite_url)
    recorded = _reply("vk", VK_COMMENT, "Спасибо, разбираемся")
    _record(sqlite_url, recorded)
    unknown = _reply("vk", VK_COMMENT, "Заходите на наш сайт-двойник")
    altered = recorded.model_copy(update={"text": "Промокод только сегодня: http://phish.example"})
    with FakeVk(vk_data, tokens=["vk-post"]) as vk:
        env = posting_env(broker.bootstrap, sqlite_url, vk)
        with MentionProducer(broker.bootstrap, topic=REPLIES_OUTBOUND) as out:
            for reply in (unknown, altered, recorded):  # one key: one partition, in this order
                out.send_raw(recorded.thread_key.encode(), reply.to_bytes())
        log = tmp_path / "publisher.log"
        publisher = start_cli(env, log, "publisher")
        try:
            assert wait_until(lambda: str(recorded.reply_id) in _results(sqlite_url), timeout=90), (
                log.read_text()
            )
        finally:
            publisher.send_signal(signal.SIGTERM)
            publisher.wait(30)
        assert list(vk.created) == [str(recorded.reply_id)], "the recorded reply only"
        assert _results(sqlite_url)[str(recorded.reply_id)].status == "sent"
    text = log.read_text()
    assert f"refused reply {unknown.reply_id} at offset" in text and "not recorded by the desk" in text
    assert (
        f"refused reply {recorded.reply_id} at offset" in text
        and "differs from the recorded reply in text" in text
    )
    engine = make_engine(sqlite_url)
    try:
        with make_session_factory(engine)() as session:
            assert get_reply(session, str(unknown.reply_id)) is None, "the publisher records nothing itself"
    finally:
        engine.dispose()


def _key_on_partition(partition: int, partitions: int, prefix: str) -> str:
    """A thread key the producer's default partitioner puts on `partition`."""
    for n in itertools.count():
        key = f"{prefix}:{n}"
        if DefaultPartitioner()(key.encode(), list(range(partitions)), list(range(partitions))) == partition:
            return key
    raise AssertionError("unreachable")


def test_a_rate_limit_pauses_its_partition_and_the_publisher_stays_in_its_group(
    broker: EmbeddedBroker, sqlite_url: str, tmp_path: Path
) -> None:
    """X says wait 25 s; the group drops a member that does not poll for 10 s. The X reply waits out
    the limit and goes once; a VK reply on the other partition goes meanwhile; no rebalance error."""
    vk_data = generate_vk({"acme": 1001}, per_brand=60, wall_posts=5)
    tweets = generate_tweets({"acme": "101"}, per_brand=8)
    customer_tweet = next(t for t in tweets.tweets.values() if t["author_id"] != "101")
    ensure_topics(broker.bootstrap, 2)
    migrate(sqlite_url)
    waiting = _reply("twitter", customer_tweet["id"]).model_copy(
        update={"thread_key": _key_on_partition(0, 2, "twitter")}
    )
    passing = _reply("vk", VK_COMMENT).model_copy(update={"thread_key": _key_on_partition(1, 2, "vk")})
    with FakeVk(vk_data, tokens=["vk-post"]) as vk, FakeTwitter(tweets, me="101") as tw:
        tw.posts_limited_until = time.time() + 25
        env = posting_env(broker.bootstrap, sqlite_url, vk, tw, MD_PUBLISHER_MAX_POLL_INTERVAL_S="10")
        log = tmp_path / "publisher.log"
        publisher = start_cli(env, log, "publisher")
        try:
            _record(sqlite_url, waiting)  # the relay in the publisher hands it over
            assert wait_until(lambda: any(c.startswith("POST") for c in tw.calls), timeout=60), (
                log.read_text()
            )
            _record(sqlite_url, passing)
            assert wait_until(lambda: str(passing.reply_id) in _results(sqlite_url), timeout=20), (
                "the other partition was held up: " + log.read_text()
            )
            assert str(waiting.reply_id) not in _results(sqlite_url), "still waiting out the limit"
            assert wait_until(lambda: str(waiting.reply_id) in _results(sqlite_url), timeout=90), (
                log.read_text()
            )
            time.sleep(3)  # the relay's redelivery and any second copy on the topic
            assert publisher.poll() is None, "the publisher is still running"
        finally:
            publisher.send_signal(signal.SIGTERM)
            publisher.wait(30)
    results = _results(sqlite_url)
    assert results[str(waiting.reply_id)].status == "sent" and len(tw.posted) == 1, "posted once"
    assert results[str(passing.reply_id)].status == "sent" and list(vk.created) == [str(passing.reply_id)]
    text = log.read_text()
    assert "again in" in text, "the wait is logged"
    for sign in ("CommitFailedError", "Traceback"):
        assert sign not in text, text


def test_the_database_away_defers_the_reply_and_skips_nothing(
    broker: EmbeddedBroker, sqlite_url: str
) -> None:
    """The publisher's database refuses connections: the reply on the topic is deferred (its
    partition paused, its offset not committed), not crashed on and not skipped; once the database
    answers, it is posted once."""
    vk_data = generate_vk({"acme": 1001}, per_brand=60, wall_posts=5)
    ensure_topics(broker.bootstrap, 1)
    migrate(sqlite_url)
    reply = _reply("vk", VK_COMMENT)
    _record(sqlite_url, reply)
    with MentionProducer(broker.bootstrap, topic=REPLIES_OUTBOUND) as out:
        out.send_raw(reply.thread_key.encode(), reply.to_bytes())
    away = make_engine(f"postgresql+psycopg://md@127.0.0.1:{free_port()}/gone")  # nothing listens
    live = make_engine(sqlite_url)
    with FakeVk(vk_data, tokens=["vk-post"]) as vk:
        publisher = ReplyPublisher(
            make_session_factory(away), {"vk": VkPoster(make_vk_client("vk-post", vk.api_url, "5.199", 0))}
        )
        consumer = KafkaConsumer(
            REPLIES_OUTBOUND,
            bootstrap_servers=broker.bootstrap,
            group_id=f"pub-{uuid.uuid4().hex[:6]}",
            enable_auto_commit=False,
            auto_offset_reset="earliest",
        )
        stop = threading.Event()
        loop = PublisherLoop(consumer, publisher, stop)
        running = threading.Thread(target=loop.run)
        running.start()
        try:
            assert wait_until(lambda: bool(loop.paused), timeout=60), "deferred while the database is away"
            assert not vk.created, "nothing posted without the desk's record"
            publisher.sessions = make_session_factory(live)
            assert wait_until(lambda: str(reply.reply_id) in _results(sqlite_url), timeout=60)
        finally:
            stop.set()
            running.join(30)
            consumer.close()
            away.dispose()
            live.dispose()
    assert list(vk.created) == [str(reply.reply_id)], "posted once"
    assert _results(sqlite_url)[str(reply.reply_id)].status == "sent"
