"""Event-time windows of mention counts and negative share. Pure: no Faust, no I/O.

Two window kinds, both aligned to the epoch (UTC): tumbling 15 minutes (the spike detector's
"current window") and hopping one hour advancing every 15 minutes (a steadier view for the desk).
Keys are (brand, source, topic); "*" stands for "all", so one mention counts under the brand as a
whole, under its source and under each of its topics.
"""

from __future__ import annotations

import heapq
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Final

from core.text import terms

ALL: Final = "*"
NO_BRAND: Final = "-"

Key = tuple[str, str, str]  # (brand, source, topic)

EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class WindowSpec:
    size: timedelta
    step: timedelta

    def starts(self, at: datetime) -> list[datetime]:
        """Starts of every window of this kind that contains `at`, oldest first."""
        step_s = self.step.total_seconds()
        newest = EPOCH + timedelta(seconds=((at - EPOCH).total_seconds() // step_s) * step_s)
        out: list[datetime] = []
        start = newest
        while start + self.size > at:
            out.append(start)
            start -= self.step
        return out[::-1]


TUMBLING_15M: Final = WindowSpec(size=timedelta(minutes=15), step=timedelta(minutes=15))
HOPPING_1H: Final = WindowSpec(size=timedelta(hours=1), step=timedelta(minutes=15))
EXAMPLES_KEPT: Final = 5


@dataclass(frozen=True, slots=True)
class Point:
    """What the windows need of one scored mention."""

    mention_id: str  # "<source>:<external_id>", unique
    brand: str | None
    source: str
    topics: tuple[str, ...]
    created_at: datetime
    negative: bool
    negativity: float
    text: str

    def window_keys(self) -> list[Key]:
        brand = self.brand or NO_BRAND
        keys: list[Key] = [(brand, ALL, ALL), (brand, self.source, ALL)]
        keys.extend((brand, ALL, topic) for topic in dict.fromkeys(self.topics))
        return keys


@dataclass(frozen=True, slots=True)
class Example:
    negativity: float
    mention_id: str
    text: str


@dataclass(slots=True)
class WindowAgg:
    """Counts of one key in one window, with its most negative examples and their words."""

    total: int = 0
    negative: int = 0
    ids: set[str] = field(default_factory=set)
    examples: list[tuple[float, str, str]] = field(default_factory=list)  # min-heap of the top N
    negative_terms: Counter[str] = field(default_factory=Counter)

    @property
    def share(self) -> float:
        return self.negative / self.total if self.total else 0.0

    def add(self, point: Point) -> bool:
        """Count the point once; False if this window already has it (a redelivery)."""
        if point.mention_id in self.ids:
            return False
        self.ids.add(point.mention_id)
        self.total += 1
        if point.negative:
            self.negative += 1
            self.negative_terms.update(set(terms(point.text)))
            item = (point.negativity, point.mention_id, point.text)
            if len(self.examples) < EXAMPLES_KEPT:
                heapq.heappush(self.examples, item)
            else:
                heapq.heappushpop(self.examples, item)
        return True

    def top_examples(self) -> list[Example]:
        return [Example(n, i, t) for n, i, t in sorted(self.examples, reverse=True)]

    def top_terms(self, n: int = 8) -> list[str]:
        return [term for term, count in self.negative_terms.most_common(n) if count > 1 or self.negative < 3]


class Windows:
    """Open windows of one kind: (key, start) -> WindowAgg, closed in start order by a watermark."""

    def __init__(self, spec: WindowSpec) -> None:
        self.spec = spec
        self._open: dict[datetime, dict[Key, WindowAgg]] = {}
        self.closed_until: datetime | None = None  # every window starting before this is closed
        self.late = 0

    def add(self, point: Point) -> bool:
        """Count the point in every open window it falls in; False if it was late or a duplicate.
        `late` counts points whose windows had all closed (a duplicate in an open window is not late)."""
        added = False
        in_open_window = False
        for start in self.spec.starts(point.created_at):
            if self.closed_until is not None and start < self.closed_until:
                continue
            in_open_window = True
            by_key = self._open.setdefault(start, {})
            for key in point.window_keys():
                added = by_key.setdefault(key, WindowAgg()).add(point) or added
        if not in_open_window:
            self.late += 1
        return added

    def close_through(self, watermark: datetime) -> Iterator[tuple[datetime, dict[Key, WindowAgg]]]:
        """Close (and yield, oldest first) every window that ends at or before `watermark`."""
        for start in sorted(self._open):
            if start + self.spec.size > watermark:
                break
            yield start, self._open.pop(start)
        # Windows with no mentions at all are closed too: later points may not reopen them.
        step_s = self.spec.step.total_seconds()
        newest_closed = watermark - self.spec.size
        aligned = EPOCH + timedelta(seconds=((newest_closed - EPOCH).total_seconds() // step_s + 1) * step_s)
        if self.closed_until is None or aligned > self.closed_until:
            self.closed_until = aligned

    def open_windows(self) -> Iterable[tuple[datetime, dict[Key, WindowAgg]]]:
        return sorted(self._open.items())
