"""The collector runner with an in-memory sink that refuses one mention as too large: that mention is
dead-lettered (small, with the reason), the rest of the page is delivered, and the cursor is saved
only after the sink and the dead letters were flushed. Any other delivery failure still holds the
cursor, as before."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime

import pytest
from sqlalchemy.orm import Session, sessionmaker

from core.bus.errors import DeliveryFailed, MessageTooLarge
from core.db.engine import make_engine, make_session_factory, migrate
from core.db.repository_ingest import load_cursors
from ingest.base import Collector, CursorUpdate, Page
from ingest.runner import DEAD_LETTER_TEXT_CHARS, CollectorRunner
from schemas import Author, DeadLetter, Mention

LIMIT = 50_000
CREATED = datetime(2025, 3, 14, 12, tzinfo=UTC)


def _mention(external_id: str, text: str) -> Mention:
    return Mention(
        source="review:example.com",
        external_id=external_id,
        thread_key=f"review:example.com:{external_id}",
        author=Author(id="someone"),
        text=text,
        created_at=CREATED,
    )


class OnePage(Collector):
    name = "review:example.com"

    def __init__(self, *mentions: Mention) -> None:
        self.mentions = mentions

    def fetch(self, cursors: Mapping[str, str]) -> Iterator[Page]:
        yield Page(self.mentions, (CursorUpdate("list:p1", "2025-03-14T12:00:00+00:00"),))


class MemorySink:
    """Sends and dead letters in memory; refuses a mention over LIMIT bytes like the Kafka producer.
    `cursors_at_flush` records the saved cursors each flush saw (the cursor must come after)."""

    def __init__(self, sessions: sessionmaker[Session], fail_flush: Exception | None = None) -> None:
        self.sessions = sessions
        self.fail_flush = fail_flush
        self.queued: list[Mention] = []
        self.letters: list[DeadLetter] = []
        self.cursors_at_flush: list[dict[str, str]] = []

    def send(self, mention: Mention) -> None:
        size = len(mention.to_bytes())
        if size > LIMIT:
            raise MessageTooLarge(f"{mention.source}/{mention.external_id}", size, LIMIT)
        self.queued.append(mention)

    def send_dead_letter(self, letter: DeadLetter) -> None:
        self.letters.append(letter)

    def flush(self, timeout: float = 30.0) -> None:
        with self.sessions() as session:
            self.cursors_at_flush.append(load_cursors(session, OnePage.name))
        if self.fail_flush is not None:
            raise self.fail_flush


@pytest.fixture
def sessions(sqlite_url: str) -> Iterator[sessionmaker[Session]]:
    migrate(sqlite_url)
    engine = make_engine(sqlite_url)
    yield make_session_factory(engine)
    engine.dispose()


def _cursors(sessions: sessionmaker[Session]) -> dict[str, str]:
    with sessions() as session:
        return load_cursors(session, OnePage.name)


def test_the_oversize_mention_is_dead_lettered_and_the_page_delivered(
    sessions: sessionmaker[Session], caplog: pytest.LogCaptureFixture
) -> None:
    huge = _mention("2", "ж" * 40_000)  # 80 KB of JSON
    page = OnePage(_mention("1", "first"), huge, _mention("3", "third"))
    sink = MemorySink(sessions)
    runner = CollectorRunner([page], sink, sessions, poll_interval_s=60, dead_letters=sink)

    with caplog.at_level(logging.ERROR, logger="ingest.runner"):
        outcome = runner.poll(page)

    assert (outcome.delivered, outcome.retry, outcome.error) == (2, False, None)
    assert [m.external_id for m in sink.queued] == ["1", "3"]
    [letter] = sink.letters
    size = len(huge.to_bytes())
    assert letter.error == f"message of {size} bytes exceeds the broker's limit of {LIMIT} bytes"
    assert (letter.topic, letter.key, letter.stage) == ("mentions.raw.v1", huge.thread_key, "collect")
    copy = Mention.model_validate_json(letter.payload)
    assert copy.external_id == "2" and copy.text == huge.text[:DEAD_LETTER_TEXT_CHARS]
    assert len(letter.to_bytes()) < 10_000
    assert all(seen == {} for seen in sink.cursors_at_flush), "flushed before the cursor was saved"
    assert _cursors(sessions) == {"list:p1": "2025-03-14T12:00:00+00:00"}
    assert f"review:example.com/2 sent to mentions.dlq.v1: {letter.error}" in caplog.text


def test_without_a_dead_letter_sink_the_mention_is_dropped_with_an_error_and_the_cursor_moves(
    sessions: sessionmaker[Session], caplog: pytest.LogCaptureFixture
) -> None:
    page = OnePage(_mention("1", "first"), _mention("2", "ж" * 40_000))
    sink = MemorySink(sessions)
    runner = CollectorRunner([page], sink, sessions, poll_interval_s=60)

    with caplog.at_level(logging.ERROR, logger="ingest.runner"):
        outcome = runner.poll(page)

    assert outcome.delivered == 1 and not outcome.retry
    assert sink.letters == []
    assert "review:example.com/2 dropped (no dead-letter topic): message of" in caplog.text
    assert _cursors(sessions) == {"list:p1": "2025-03-14T12:00:00+00:00"}


def test_any_other_delivery_failure_still_holds_the_cursor(sessions: sessionmaker[Session]) -> None:
    page = OnePage(_mention("1", "first"))
    sink = MemorySink(sessions, fail_flush=DeliveryFailed("1 messages not delivered"))
    runner = CollectorRunner([page], sink, sessions, poll_interval_s=60, dead_letters=sink)

    outcome = runner.poll(page)

    assert outcome.retry and outcome.error is not None and "not delivered" in outcome.error
    assert sink.letters == []
    assert _cursors(sessions) == {}
