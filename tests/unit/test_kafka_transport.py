"""The worker's Kafka consumer waits at most MD_KAFKA_FETCH_MAX_WAIT_MS at the broker per fetch
(Faust alone fixes 1,500 ms, which a broker that holds empty fetches turns into latency per hop)."""

from __future__ import annotations

import asyncio

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
