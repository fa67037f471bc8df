"""The score agent hands each stored batch to what follows the stream (the spike detector) in process:
every subscriber sees every batch in order, and one that fails does not stop the others or the stream."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from datetime import UTC, datetime

import pytest

from schemas import Author, LabelProbs, ScoredMention
from sentiment.scored_feed import ScoredFeed, StoredMention, Subscriber


def _stored(i: int) -> StoredMention:
    at = datetime(2026, 12, 4, 9, 0, tzinfo=UTC)
    mention = ScoredMention(
        source="vk",
        external_id=f"m{i}",
        thread_key=f"vk:t{i}",
        author=Author(id=f"a{i}"),
        text="Где мой заказ?",
        created_at=at,
        lang="ru",
        negativity=0.7,
        label="negative",
        probs=LabelProbs(negative=0.7, neutral=0.2, positive=0.1),
        model_version="test",
    )
    return StoredMention(mention, partition=i % 4)


def test_every_subscriber_gets_every_batch_in_order() -> None:
    feed = ScoredFeed()
    seen: dict[str, list[list[str]]] = {"first": [], "second": []}

    def recorder(name: str) -> Subscriber:
        async def record(batch: Sequence[StoredMention]) -> None:
            seen[name].append([s.mention.external_id for s in batch])

        return record

    feed.subscribe(recorder("first"))
    feed.subscribe(recorder("second"))
    batches = [[_stored(0), _stored(1)], [_stored(2)]]

    async def publish_all() -> None:
        for batch in batches:
            await feed.publish(batch, feed.ticket())
        await feed.publish([], feed.ticket())  # nothing stored: nobody is called

    asyncio.run(publish_all())
    assert seen["first"] == seen["second"] == [["m0", "m1"], ["m2"]]


def test_a_failing_subscriber_is_logged_and_the_next_batch_still_flows(
    caplog: pytest.LogCaptureFixture,
) -> None:
    feed = ScoredFeed()
    after: list[str] = []

    async def broken(batch: Sequence[StoredMention]) -> None:
        if batch[0].mention.external_id == "m0":
            raise RuntimeError("detector bug")

    async def healthy(batch: Sequence[StoredMention]) -> None:
        after.extend(s.mention.external_id for s in batch)

    feed.subscribe(broken)
    feed.subscribe(healthy)

    async def publish_two() -> None:
        await feed.publish([_stored(0)], feed.ticket())
        await feed.publish([_stored(1)], feed.ticket())

    with caplog.at_level(logging.ERROR, logger="sentiment.scored_feed"):
        asyncio.run(publish_two())
    assert after == ["m0", "m1"]
    failures = [r for r in caplog.records if "failed on a batch of 1 stored mentions" in r.getMessage()]
    assert len(failures) == 1 and "broken" in failures[0].getMessage()
    assert failures[0].exc_info is not None and "detector bug" in str(failures[0].exc_info[1])


def test_batches_reach_subscribers_in_the_order_they_were_taken_whichever_finished_first() -> None:
    """Two score agents: the batch taken second may be stored first; the spike detector must still
    see the first one first (its watermark would drop the earlier mentions as late)."""
    feed = ScoredFeed()
    seen: list[str] = []

    async def record(batch: Sequence[StoredMention]) -> None:
        seen.extend(s.mention.external_id for s in batch)

    feed.subscribe(record)

    async def two_agents() -> None:
        first, second, third = feed.ticket(), feed.ticket(), feed.ticket()
        later = asyncio.create_task(feed.publish([_stored(2)], second))
        await asyncio.sleep(0.01)
        assert seen == []  # held back until the batch taken before it is handed over
        await feed.publish([_stored(0), _stored(1)], first)
        await later
        feed.release(third)  # a batch that failed before it was stored: nothing waits on it
        await asyncio.wait_for(feed.publish([_stored(3)], feed.ticket()), timeout=1)

    asyncio.run(two_agents())
    assert seen == ["m0", "m1", "m2", "m3"]
