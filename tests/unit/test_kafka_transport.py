"""The worker's Kafka consumer waits at most MD_KAFKA_FETCH_MAX_WAIT_MS at the broker per fetch
(Faust alone fixes 1,500 ms, which a broker that holds empty fetches turns into latency per hop)."""

from __future__ import annotations

import asyncio
from typing import Any

import faust
from faust.types import TP, Message

from schemas.topics import MENTIONS_RAW as RAW
from sentiment.kafka_transport import LowLatencyApp, Transport


def test_the_worker_consumer_takes_the_configured_fetch_wait() -> None:
    async def build() -> int:
        app = LowLatencyApp(
            "fetch-wait-test",
            broker="kafka://127.0.0.1:1",  # nothing is contacted: the consumer is only built
            fetch_max_wait_ms=77,
            store="memory://",
            web_enabled=False,
            autodiscover=False,
        )
        assert isinstance(app.transport, Transport)
        consumer = app.consumer._thread._create_worker_consumer(app.transport)  # type: ignore[attr-defined]
        try:
            return int(consumer._fetch_max_wait_ms)
        finally:
            await consumer.stop()

    loop = asyncio.new_event_loop()
    try:
        assert loop.run_until_complete(build()) == 77
    finally:
        loop.close()


def _message(offset: int) -> Message:
    return Message(RAW, 0, offset, 0.0, 0, None, None, b"{}", None, tp=TP(RAW, 0))


def _consumer_of(app_class: type[faust.App], **kwargs: Any) -> Any:
    """The consumer of a new app of `app_class` (nothing is contacted), acknowledging the raw topic."""
    app = app_class(
        "commit-floor-test",
        broker="kafka://127.0.0.1:1",
        store="memory://",
        web_enabled=False,
        autodiscover=False,
        **kwargs,
    )
    app.topics._acking_topics.add(RAW)  # type: ignore[attr-defined]  # as subscribing an agent does
    return app.consumer


def _in_a_loop(build: Any) -> Any:
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(build())
    finally:
        loop.close()


def _two_takes_finished_out_of_order(app_class: type[faust.App], **kwargs: Any) -> list[dict[TP, int]]:
    """One partition's offsets 0-9 taken as two takes, 0-4 and 5-9; the second finishes first. The
    commits the consumer would make: after the second take, after part of the first, after all."""

    async def run() -> list[dict[TP, int]]:
        consumer = _consumer_of(app_class, **kwargs)
        taken = [_message(offset) for offset in range(10)]
        for message in taken:
            consumer.track_message(message)
        commits = []
        for done in (taken[5:], taken[:3], taken[3:5]):
            for message in done:
                consumer.ack(message)
            offsets = consumer._filter_committable_offsets([TP(RAW, 0)])
            consumer._committed_offset.update(offsets)
            commits.append(offsets)
        return commits

    result: list[dict[TP, int]] = _in_a_loop(run)
    return result


def test_a_take_finished_early_is_not_committed_over_an_earlier_one_in_process() -> None:
    """What a SIGKILL would lose: Faust alone commits offset 10 while 0-4 are still in the model."""
    tp = TP(RAW, 0)
    assert _two_takes_finished_out_of_order(faust.App)[0] == {tp: 10}
    assert _two_takes_finished_out_of_order(LowLatencyApp, fetch_max_wait_ms=100) == [
        {},  # 0-4 in process: nothing may be committed
        {tp: 3},  # 0-2 done, 3 still in process
        {tp: 10},  # all done: the second take's offsets, held back, are committed now
    ]


def test_a_single_message_gap_after_a_commit_holds_the_commit_back() -> None:
    """Faust alone lets a gap of one message after a commit through (its guard wants two)."""
    tp = TP(RAW, 0)

    def committed(app_class: type[faust.App], **kwargs: Any) -> dict[TP, int]:
        async def run() -> dict[TP, int]:
            consumer = _consumer_of(app_class, **kwargs)
            consumer._committed_offset[tp] = 3
            taken = [_message(offset) for offset in range(3, 10)]
            for message in taken:
                consumer.track_message(message)
            for message in taken[1:]:
                consumer.ack(message)
            return dict(consumer._filter_committable_offsets([tp]))

        result: dict[TP, int] = _in_a_loop(run)
        return result

    assert committed(faust.App) == {tp: 10}
    assert committed(LowLatencyApp, fetch_max_wait_ms=100) == {}
