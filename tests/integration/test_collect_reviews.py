"""`mentiondesk collect --once` with review pages and feeds only and no network token, against the
local fake sites, through a real broker into a real worker: every readable review, official answer
and feed entry lands in the database; two pages of one site keep a cursor each."""

from __future__ import annotations

from pathlib import Path

import pytest

from mentiondesk.broker import EmbeddedBroker
from tests.integration.collect_support import start_cli
from tests.integration.review_support import (
    EXPECTED,
    cursor_keys,
    expected_cursor_keys,
    review_sites,
    stored_keys,
    write_review_config,
)
from tests.support import WorkerStarter, count_rows, wait_until, worker_env

pytestmark = pytest.mark.pipeline


def test_collect_once_stores_every_review_and_feed_item_without_tokens(
    broker: EmbeddedBroker, start_worker: WorkerStarter, sqlite_url: str, tmp_path: Path
) -> None:
    log = tmp_path / "collect.log"
    with review_sites() as sites:
        config = write_review_config(tmp_path / "brands.toml", sites)
        env = worker_env(broker.bootstrap, sqlite_url, MD_CONFIG=str(config))
        assert not any(k in env for k in ("MD_VK_TOKEN", "MD_TWITTER_BEARER_TOKEN"))
        start_worker(env)
        collect = start_cli(env, log, "collect", "--once")
        assert collect.wait(240) == 0, log.read_text()
        otzovik_paths = sites.otzovik.paths()
        feed_paths = sites.feeds.paths()
        cursors = expected_cursor_keys(sites)

    output = log.read_text()
    assert "collecting: review:otzovik.com, review:irecommend.ru, rss:127.0.0.1 every 60s" in output
    assert "off: vk: MD_VK_TOKEN is not set (wanted for acme)" in output
    assert "off: twitter: MD_TWITTER_BEARER_TOKEN is not set (wanted for acme)" in output
    assert "no tokens" not in output
    # both otzovik pages and both feeds were read
    assert {"/reviews/magazin_acme/", "/reviews/magazin_acme_outlet/"} <= set(otzovik_paths)
    assert {"/feeds/acme.xml", "/feeds/acme.atom"} <= set(feed_paths)

    assert wait_until(lambda: stored_keys(sqlite_url) >= EXPECTED, timeout=300), (
        f"missing {sorted(EXPECTED - stored_keys(sqlite_url))}"
    )
    wait_until(lambda: False, timeout=2)
    assert stored_keys(sqlite_url) == EXPECTED, "every item the sites serve, nothing else"
    assert count_rows(sqlite_url) == len(EXPECTED)
    # one collector per site, one cursor per page or feed
    assert cursor_keys(sqlite_url) == cursors
    health = count_rows(sqlite_url, "SELECT count(*) FROM collector_health WHERE state = 'ok'")
    assert health == 3
