"""X collection against the fake X API v2, through the real tweepy.Client, a real broker and both
databases: 3 brands x 1,000 tweets, paging, injected 429s, a kill -9 mid-run."""

from __future__ import annotations

import collections
import signal
from datetime import UTC, datetime
from pathlib import Path

from core.brands import BrandsConfig
from core.db.collector_status import read_status
from core.db.engine import make_engine, make_session_factory, migrate
from ingest.runner import CollectorRunner
from ingest.twitter import TwitterCollector, make_twitter_client
from mentiondesk.broker import EmbeddedBroker
from tests.fakes.twitter_server import FakeTwitter, generate
from tests.integration.collect_support import (
    TWITTER_ACCOUNTS,
    collect_env,
    read_mentions,
    start_cli,
    write_config,
)
from tests.support import wait_until


def test_three_brands_collected_exactly_once_across_a_kill(
    broker: EmbeddedBroker, database_url: str, tmp_path: Path
) -> None:
    data = generate(TWITTER_ACCOUNTS, per_brand=1000)
    assert len(data.tweets) == 3000
    with FakeTwitter(data) as fake:
        fake.inject(429, [4, 15, 30])
        env = collect_env(
            broker.bootstrap,
            database_url,
            write_config(tmp_path / "brands.toml"),
            MD_TWITTER_BEARER_TOKEN="tw-test-bearer",
            MD_TWITTER_API_URL=fake.url,
        )
        first = start_cli(env, tmp_path / "collect-1.log", "collect")
        assert wait_until(lambda: len(fake.calls) >= 20, timeout=120), (
            tmp_path / "collect-1.log"
        ).read_text()
        first.send_signal(signal.SIGKILL)
        first.wait(10)
        second = start_cli(env, tmp_path / "collect-2.log", "collect", "--once")
        assert second.wait(180) == 0, (tmp_path / "collect-2.log").read_text()
        assert (
            "rate limited"
            in (tmp_path / "collect-1.log").read_text() + (tmp_path / "collect-2.log").read_text()
        )

    mentions = read_mentions(broker.bootstrap)
    delivered = collections.Counter(m.external_id for m in mentions)
    assert set(delivered) == set(data.tweets), "every tweet, nothing else"
    by_id = {m.external_id: m for m in mentions}
    for tweet in data.tweets.values():
        mention = by_id[tweet["id"]]
        assert mention.thread_key == f"twitter:{tweet['conversation_id']}", "replies join their conversation"
        refs = [r["id"] for r in tweet.get("referenced_tweets", [])]
        assert mention.parent_external_id == (refs[0] if refs else None)
        assert mention.author.is_brand == (tweet["author_id"] in TWITTER_ACCOUNTS.values())
    print(
        f"twitter: {len(by_id)} distinct, {sum(delivered.values()) - len(delivered)} re-sent after the kill"
    )


def test_revoked_bearer_token_shows_failing_with_the_message_in_one_poll(database_url: str) -> None:
    config = BrandsConfig.model_validate({"brands": [{"name": "acme", "queries": ["acme"]}]})
    migrate(database_url)
    engine = make_engine(database_url)

    class Sink:
        def send(self, mention: object) -> None:
            raise AssertionError("nothing may be sent")

        def flush(self, timeout: float = 30.0) -> None:
            return None

    try:
        with FakeTwitter(generate({"acme": "101"}, per_brand=8), bearer=["good"]) as fake:
            collector = TwitterCollector(
                config.brands, config.collect, make_twitter_client("revoked", fake.url), overlap_s=60
            )
            outcome = CollectorRunner(
                [collector], Sink(), make_session_factory(engine), poll_interval_s=60
            ).poll(collector)
        with make_session_factory(engine)() as session:
            [status] = read_status(session, datetime.now(UTC), 3)
    finally:
        engine.dispose()
    assert outcome.stop
    assert status.state == "failing"
    assert status.last_error is not None and "X answered 401" in status.last_error
    assert status.alert is not None and "collector stopped" in status.alert
