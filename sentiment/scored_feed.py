"""The worker's in-process hand-over of each stored batch to the agents that follow the stream.

The score agent stores what it scored and hands the batch here; the spike detector subscribes. Reading
`mentions.scored.v1` back in the same process cost the worker two more passes over every message
(fetch, decode, validate) for data it already held as objects. The topic is still written: it is
the contract for consumers outside the worker.
"""

from __future__ import annotations

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

    A subscriber retries its own transient faults; one that raises is logged and skipped for that
    batch: the mentions are stored already, and an escaped exception would stop the score agent for
    good (Faust does not restart a crashed agent), so a fault in what follows the stream would
    halt the stream itself."""

    subscribers: list[Subscriber] = field(default_factory=list)

    def subscribe(self, subscriber: Subscriber) -> None:
        self.subscribers.append(subscriber)

    async def publish(self, batch: Sequence[StoredMention]) -> None:
        if not batch:
            return
        for subscriber in self.subscribers:
            try:
                await subscriber(batch)
            except Exception:
                log.exception("%s failed on a batch of %d stored mentions", _name(subscriber), len(batch))


def _name(subscriber: Subscriber) -> str:
    return getattr(subscriber, "__qualname__", repr(subscriber))
