"""VK collection against the fake VK API, through the real vk_api client, a real broker and both
databases: 3 brands x 1,000 mentions, paging, injected error 6, a kill -9 mid-run."""

from __future__ import annotations

import collections
import signal
from datetime import UTC, datetime
from pathlib import Path

from core.brands import BrandsConfig
from core.db.collector_status import read_status
from core.db.engine import make_engine, make_session_factory, migrate
from core.db.repository_ingest import load_cursors
from ingest.runner import CollectorRunner
from ingest.vk import VkCollector, make_vk_client
from mentiondesk.broker import EmbeddedBroker
from tests.fakes.vk_server import FakeVk, generate
from tests.integration.collect_support import BRANDS, collect_env, read_mentions, start_cli, write_config
from tests.support import wait_until


def test_three_brands_collected_exactly_once_across_a_kill(
    broker: EmbeddedBroker, database_url: str, tmp_path: Path
) -> None:
    data = generate(BRANDS, per_brand=1000)
    expected = data.expected_ids()
    assert len(expected) == 3000
    with FakeVk(data) as fake:
        fake.inject(6, [7, 90, 400])
        env = collect_env(
            broker.bootstrap,
            database_url,
            write_config(tmp_path / "brands.toml"),
            MD_VK_TOKEN="vk-test-token",
            MD_VK_API_URL=fake.api_url,
        )
        first = start_cli(env, tmp_path / "collect-1.log", "collect")
        assert wait_until(lambda: len(fake.calls) >= 250, timeout=120), (
            tmp_path / "collect-1.log"
        ).read_text()
        first.send_signal(signal.SIGKILL)
        first.wait(10)
        calls_before_restart = len(fake.calls)
        second = start_cli(env, tmp_path / "collect-2.log", "collect", "--once")
        assert second.wait(180) == 0, (tmp_path / "collect-2.log").read_text()
        assert len(fake.calls) > calls_before_restart

    mentions = read_mentions(broker.bootstrap)
    delivered = collections.Counter(m.external_id for m in mentions)
    assert set(delivered) == expected, "every mention, nothing else"
    by_id = {m.external_id: m for m in mentions}
    # threads: every comment is in its post's thread and its parent is in the same thread
    for mention in by_id.values():
        owner, post, *comment = mention.external_id.split("_")
        assert mention.thread_key == f"vk:wall{owner}_{post}"
        if comment:
            assert mention.parent_external_id is not None
            assert by_id[mention.parent_external_id].thread_key == mention.thread_key
        if int(owner) < 0 and not comment:
            assert mention.author.is_brand, "a community's own post is the brand's"
    deep = [m for m in by_id.values() if m.parent_external_id and m.parent_external_id.count("_") == 2]
    assert len(deep) >= 3 * 14, "replies beyond the 10-reply preview were paged in"
    assert any(m.author.is_brand and m.parent_external_id for m in by_id.values()), "brand answers marked"

    engine = make_engine(database_url)
    try:
        with make_session_factory(engine)() as session:
            cursors = load_cursors(session, "vk")
            status = {s.collector: s for s in read_status(session, datetime.now(UTC), 3)}
    finally:
        engine.dispose()
    assert {"wall:1001", "search:acme:0"} <= set(cursors)
    assert status["vk"].state == "ok" and status["vk"].last_success_at is not None
    print(f"vk: {len(expected)} distinct, {sum(delivered.values()) - len(delivered)} re-sent after the kill")


def test_revoked_token_shows_failing_with_the_message_in_one_poll(database_url: str) -> None:
    config = BrandsConfig.model_validate(
        {"brands": [{"name": "acme", "queries": ["acme"], "vk": {"communities": [1001]}}]}
    )
    migrate(database_url)
    engine = make_engine(database_url)
    sent: list[object] = []

    class Sink:
        def send(self, mention: object) -> None:
            sent.append(mention)

        def flush(self, timeout: float = 30.0) -> None:
            return None

    try:
        with FakeVk(
            generate({"acme": 1001}, per_brand=50, wall_posts=5), tokens=["only-the-good-one"]
        ) as fake:
            collector = VkCollector(
                config.brands,
                config.collect,
                make_vk_client("revoked", fake.api_url, "5.199", 0),
                overlap_s=60,
            )
            runner = CollectorRunner([collector], Sink(), make_session_factory(engine), poll_interval_s=60)
            outcome = runner.poll(collector)
        assert outcome.stop
        with make_session_factory(engine)() as session:
            [status] = read_status(session, datetime.now(UTC), 3)
    finally:
        engine.dispose()
    assert status.state == "failing"
    assert status.last_error is not None and "VK error 5: User authorization failed" in status.last_error
    assert status.alert is not None and "collector stopped" in status.alert and "MD_VK_TOKEN" in status.alert
    assert sent == []
