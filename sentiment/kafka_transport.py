"""Faust's aiokafka transport, with two changes to its consumer.

- The fetch wait comes from the settings. Faust fixes aiokafka's `fetch_max_wait_ms` at 1,500 ms. A
  broker that holds an empty fetch for the whole wait (Tansu does, even when data arrives meanwhile)
  then adds up to 1.5 s per hop, and a mention takes two hops (raw -> scored -> database).
  `MD_KAFKA_FETCH_MAX_WAIT_MS` bounds it.
- A partition's commit stops below its first message still in process. Faust commits the first run
  of acknowledged offsets, and guards a gap at its head only when an offset was committed before and
  the gap is longer than one message (faust-streaming 0.15.3, issue #606). With two score agents a
  later take can finish first; its offsets were then committed over an earlier take still in the
  model, and a SIGKILL lost that take.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import faust
from faust.transport.drivers import aiokafka as driver
from faust.types import TP, Message
from faust.types.tuples import ack_lock


def first_in_flight(tracked: Iterable[Message], tp: TP) -> int | None:
    """The smallest offset of `tp` that a stream has taken and not acknowledged, if any."""
    return min((m.offset for m in tracked if m.tp == tp and not m.acked), default=None)


class _ConsumerThread(driver.AIOKafkaConsumerThread):
    def _create_worker_consumer(self, transport: Any) -> Any:
        consumer = super()._create_worker_consumer(transport)
        # Read by AIOKafkaConsumer.start() when it builds its fetcher, which happens after this.
        consumer._fetch_max_wait_ms = int(getattr(self.app, "fetch_max_wait_ms", 1500))
        return consumer


class CommitFloorConsumer(driver.Consumer):
    """The worker's consumer: the settings' fetch wait, and commits below what is in process."""

    def _new_consumer_thread(self) -> _ConsumerThread:
        return _ConsumerThread(self, loop=self.loop, beacon=self.beacon)

    def _new_offset(self, tp: TP) -> int | None:
        """Faust's next commit for `tp`, computed only on the offsets below its first in-flight one.

        Acknowledged offsets above it stay for a later commit. Every offset a stream took is tracked
        until acknowledged, and a partition's messages are taken in order, so below that offset all
        is done.
        """
        with ack_lock:  # the tracked set changes as messages are acknowledged
            floor = first_in_flight(list(self._unacked_messages), tp)
        if floor is None:
            return super()._new_offset(tp)
        acked = self._acked[tp]
        held = [offset for offset in acked if offset > floor]
        acked[:] = [offset for offset in acked if offset < floor]
        try:
            return super()._new_offset(tp)  # None when nothing below the floor is acknowledged
        finally:
            acked.extend(held)


class Transport(driver.Transport):
    """`kafka://` as Faust ships it, except the worker consumer's fetch wait and commit floor."""

    Consumer = CommitFloorConsumer


class LowLatencyApp(faust.App):
    """A faust.App whose consumer fetches wait at most `fetch_max_wait_ms` at the broker."""

    def __init__(self, *args: Any, fetch_max_wait_ms: int, **kwargs: Any) -> None:
        self.fetch_max_wait_ms = fetch_max_wait_ms
        super().__init__(*args, **kwargs)

    def _new_transport(self) -> Transport:
        return Transport(self.conf.broker_consumer, self)
