"""Faust's aiokafka transport with the consumer's fetch wait taken from the settings.

Faust fixes aiokafka's `fetch_max_wait_ms` at 1,500 ms. A broker that holds an empty fetch for the
whole wait (Tansu does, even when data arrives meanwhile) then adds up to 1.5 s per hop, and a
mention takes two hops (raw -> scored -> database). `MD_KAFKA_FETCH_MAX_WAIT_MS` bounds it.
"""

from __future__ import annotations

from typing import Any

import faust
from faust.transport.drivers import aiokafka as driver


class _ConsumerThread(driver.AIOKafkaConsumerThread):
    def _create_worker_consumer(self, transport: Any) -> Any:
        consumer = super()._create_worker_consumer(transport)
        # Read by AIOKafkaConsumer.start() when it builds its fetcher, which happens after this.
        consumer._fetch_max_wait_ms = int(getattr(self.app, "fetch_max_wait_ms", 1500))
        return consumer


class _Consumer(driver.Consumer):
    def _new_consumer_thread(self) -> _ConsumerThread:
        return _ConsumerThread(self, loop=self.loop, beacon=self.beacon)


class Transport(driver.Transport):
    """`kafka://` as Faust ships it, except the worker consumer's fetch wait."""

    Consumer = _Consumer


class LowLatencyApp(faust.App):
    """A faust.App whose consumer fetches wait at most `fetch_max_wait_ms` at the broker."""

    def __init__(self, *args: Any, fetch_max_wait_ms: int, **kwargs: Any) -> None:
        self.fetch_max_wait_ms = fetch_max_wait_ms
        super().__init__(*args, **kwargs)

    def _new_transport(self) -> Transport:
        return Transport(self.conf.broker_consumer, self)
