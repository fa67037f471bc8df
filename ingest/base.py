"""What every collector is: something that yields pages of mentions, each with the cursors to save
once that page has been delivered. Collectors know nothing of Kafka or of the database."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

from schemas import Mention


@dataclass(frozen=True, slots=True)
class CursorUpdate:
    """A collector's position for one of its feeds, e.g. key "search:acme" -> since_id "1789"."""

    key: str
    value: str


@dataclass(frozen=True, slots=True)
class Page:
    """One unit of progress. The runner delivers `mentions` first and saves `cursors` after, so a
    crash in between re-reads the page (duplicates are dropped downstream) and never skips it."""

    mentions: Sequence[Mention]
    cursors: Sequence[CursorUpdate] = ()


class Collector(ABC):
    """A source of mentions: VK, Twitter/X, one review site, one RSS feed."""

    #: the collector's name in cursors, health and logs, e.g. "vk", "twitter", "review:otzovik.com"
    name: str

    @abstractmethod
    def fetch(self, cursors: Mapping[str, str]) -> Iterator[Page]:
        """Pages of mentions newer than `cursors` (minus an overlap window), oldest first where the
        network allows. Raises a `CollectorError` subclass for what the runner must handle."""
