"""The worker's in-process hand-over of each stored batch to the agents that follow the stream.

The score agent stores what it scored and hands the batch here; the spike detector subscribes. Reading
`mentions.scored.v1` back in the same process cost the worker two more passes over every message
(fetch, decode, validate) for data it already held as objects. The topic is still written: it is
the contract for consumers outside the worker.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

from schemas import ScoredMention

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class StoredMention:
    """A scored mention the database holds, with the partition of the message it came from (the
    spike detector keeps its event-time watermark per partition)."""

    mention: ScoredMention
    partition: int


Subscriber = Callable[[Sequence[StoredMention]], Awaitable[None]]


@dataclass(slots=True)
class ScoredFeed:
    """Subscribers called in turn, awaited, for every stored batch: the batch's offsets are committed
    only after every subscriber has returned, so what they do with it is at-least-once too.

    Batches reach the subscribers in the order they were taken from the stream (`ticket`), whichever
    finished first: two score agents share the work, and the spike detector's event-time watermark
    would otherwise run ahead on a later batch and drop an earlier one's mentions as late.

    A subscriber retries its own transient faults; one that raises is logged and skipped for that
    batch: the mentions are stored already, and an escaped exception would stop the score agent for
    good (Faust does not restart a crashed agent), so a fault in what follows the stream would
    halt the stream itself."""

    subscribers: list[Subscriber] = field(default_factory=list)
    _issued: int = 0
    _turn: int = 0
    _finished: set[int] = field(default_factory=set)
    _waiting: dict[int, asyncio.Future[None]] = field(default_factory=dict)

    def subscribe(self, subscriber: Subscriber) -> None:
        self.subscribers.append(subscriber)

    def ticket(self) -> int:
        """A batch's place in line, taken as the batch is taken from the stream."""
        self._issued += 1
        return self._issued - 1

    async def publish(self, batch: Sequence[StoredMention], ticket: int) -> None:
        """Hand `batch` to every subscriber once every batch taken before it has been handed over
        (or released); then let the next one go."""
        try:
            await self._wait_for_turn(ticket)
            for subscriber in self.subscribers if batch else ():
                try:
                    await subscriber(batch)
                except Exception:
                    log.exception("%s failed on a batch of %d stored mentions", _name(subscriber), len(batch))
        finally:
            self.release(ticket)

    def release(self, ticket: int) -> None:
        """Give up `ticket`'s turn (done, or a batch that will never be published): the batches
        behind it go on. Releasing twice is harmless."""
        if ticket < self._turn:
            return
        self._finished.add(ticket)
        while self._turn in self._finished:
            self._finished.discard(self._turn)
            self._turn += 1
        waiter = self._waiting.pop(self._turn, None)
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def _wait_for_turn(self, ticket: int) -> None:
        if ticket <= self._turn:
            return
        waiter = asyncio.get_running_loop().create_future()
        self._waiting[ticket] = waiter
        try:
            await waiter
        finally:
            self._waiting.pop(ticket, None)


def _name(subscriber: Subscriber) -> str:
    return getattr(subscriber, "__qualname__", repr(subscriber))
