"""`mentiondesk collect --once` with a feed that carries one mention too large for the broker: the
other entries are delivered, the large one is dead-lettered with the reason, the feed's cursor is
saved, and the next run neither refuses it again nor re-sends what the cursor already covers.

A valid Mention is at most ~400 KB of JSON (100,000 characters of at most 4 UTF-8 bytes), below the
default 1 MiB limit, so the test lowers the producer's limit with MD_KAFKA_MAX_REQUEST_BYTES
rather than serving a 1.5 MB entry the collector would refuse as invalid."""

from __future__ import annotations

import collections
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text

from core.db.engine import make_engine
from mentiondesk.broker import EmbeddedBroker
from schemas import DeadLetter, Mention
from tests.fakes.review_site_server import ReviewSiteServer
from tests.integration.collect_support import read_mentions, read_topic, start_cli
from tests.support import worker_env

pytestmark = pytest.mark.pipeline

LIMIT = 131_072
FEED = "/feeds/acme.xml"
BASE = "https://reviews.example/acme/r/"
#: id -> (publication time, text); the feed's newest entry is 701, the others are over a day older
ENTRIES: dict[str, tuple[str, str]] = {
    "700": ("Mon, 10 Mar 2025 10:00:00 GMT", "Первый заказ, всё хорошо."),
    "666": ("Tue, 11 Mar 2025 10:00:00 GMT", "Жалоба " + "ж" * 99_000),  # ~198 KB of JSON
    "702": ("Wed, 12 Mar 2025 08:00:00 GMT", "Привезли на следующий день."),
    "701": ("Fri, 14 Mar 2025 12:00:00 GMT", "Жду возврат три недели."),
}
NORMAL = {BASE + i for i in ("700", "701", "702")}
OVERSIZE = BASE + "666"


def _feed() -> bytes:
    items = "".join(
        f"<item><title>Отзыв {key}</title><link>{BASE}{key}</link><guid>{BASE}{key}</guid>"
        f"<dc:creator>Кирилл</dc:creator><pubDate>{when}</pubDate><description>{body}</description></item>"
        for key, (when, body) in ENTRIES.items()
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?>'
        '<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/"><channel>'
        f"<title>Отзывы</title><link>https://reviews.example/acme/</link>{items}</channel></rss>"
    ).encode()


def _cursor(database_url: str) -> str | None:
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            return conn.execute(text("SELECT value FROM collector_cursors")).scalar_one_or_none()
    finally:
        engine.dispose()


def _last_error(database_url: str) -> str:
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            return str(conn.execute(text("SELECT last_error FROM collector_health")).scalar_one())
    finally:
        engine.dispose()


def _dead_letters(bootstrap: str) -> list[tuple[int, DeadLetter]]:
    return [(len(v), DeadLetter.model_validate_json(v)) for v in read_topic(bootstrap, "mentions.dlq.v1")]


def test_an_oversize_mention_is_dead_lettered_and_the_feed_moves_on(
    broker: EmbeddedBroker, sqlite_url: str, tmp_path: Path
) -> None:
    with ReviewSiteServer({}) as site:
        site.set_robots("User-agent: *\nAllow: /\n")
        site.set_body(FEED, _feed(), "application/rss+xml; charset=utf-8")
        config = tmp_path / "brands.toml"
        config.write_text(f'[[brands]]\nname = "acme"\nqueries = ["acme"]\nrss = ["{site.url(FEED)}"]\n')
        env = worker_env(
            broker.bootstrap, sqlite_url, MD_CONFIG=str(config), MD_KAFKA_MAX_REQUEST_BYTES=str(LIMIT)
        )
        first = start_cli(env, tmp_path / "collect-1.log", "collect", "--once")
        assert first.wait(180) == 0, (tmp_path / "collect-1.log").read_text()

        assert {m.url for m in read_mentions(broker.bootstrap)} == NORMAL, "the rest of the page went"
        [(size, letter)] = _dead_letters(broker.bootstrap)
        assert letter.topic == "mentions.raw.v1" and letter.key == f"review:127.0.0.1:{OVERSIZE}"
        refused = Mention.model_validate_json(letter.payload)  # a shortened copy that still parses
        assert refused.external_id == OVERSIZE and refused.text.startswith("Отзыв 666")
        assert size < 10_000, "the dead letter itself stays small"
        prefix, _, rest = letter.error.partition(" bytes exceeds the broker's limit of ")
        assert prefix.startswith("message of ") and int(prefix.removeprefix("message of ")) > LIMIT
        assert rest == f"{LIMIT} bytes"
        assert f"sent to mentions.dlq.v1: {letter.error}" in (tmp_path / "collect-1.log").read_text()
        assert letter.error in _last_error(sqlite_url), "`collectors status` shows it"
        assert _cursor(sqlite_url) == datetime(2025, 3, 14, 12, tzinfo=UTC).isoformat()

        second = start_cli(env, tmp_path / "collect-2.log", "collect", "--once")
        assert second.wait(180) == 0, (tmp_path / "collect-2.log").read_text()

    delivered = collections.Counter(m.url for m in read_mentions(broker.bootstrap))
    # the cursor moved: only 701, within the 24 h overlap every feed re-reads, can come again
    older = {url: n for url, n in delivered.items() if url != BASE + "701"}
    assert older == {BASE + "700": 1, BASE + "702": 1}
    assert len(_dead_letters(broker.bootstrap)) == 1, "the oversize mention was not refused again"
