"""The worker's in-process hand-over of each stored batch to the agents that follow the stream.

The score agent stores what it scored and hands the batch here; the spike detector subscribes. Reading
`mentions.scored.v1` back in the same process cost the worker two more passes over every message
(fetch, decode, validate) for data it already held as objects. The topic is still written: it is
the contract for consumers outside the worker.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

from schemas import ScoredMention


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
    only after every subscriber has returned, so what they do with it is at-least-once too."""

    subscribers: list[Subscriber] = field(default_factory=list)

    def subscribe(self, subscriber: Subscriber) -> None:
        self.subscribers.append(subscriber)

    async def publish(self, batch: Sequence[StoredMention]) -> None:
        if not batch:
            return
        for subscriber in self.subscribers:
            await subscriber(batch)
