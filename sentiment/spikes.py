"""Negativity-spike detection on event time. Pure: no Faust, no I/O, no wall clock of its own.

Every 15-minute tumbling window of every key (brand, source, topic; see windowing.py) is judged when
it closes: it is a spike when its negative share exceeds the key's baseline, mean + k·σ over its
previous closed windows (mean: the pooled share; σ: what a window of this size is expected to vary,
sampling noise plus the windows' own spread, at least `min_std`), it holds at least `min_count`
negative mentions and the baseline has at least `min_baseline_windows` windows.

One alert per spike: in one window, a brand's candidate keys (the brand as a whole, a source, a
topic) make one alert, the key with the highest score. After an alert the brand is "in a spike"
until one of its windows closes without a candidate, and no new alert comes within `cooldown` of the
last one. Spike windows stay out of the baseline, so a long incident does not raise its own bar.

Windows close on a watermark: per Kafka partition the newest event time seen, the slowest partition
wins, minus `lateness`; a partition quiet for `idle_after` (wall time, passed in by the caller) stops
holding the others back. A partition the worker reads (`expect`) but has not seen yet holds the
watermark too: a first fetch may bring some partitions' whole backlog before the others', and their
newest time would close the windows the others' mentions belong to. Events older than the watermark
are counted as late and dropped.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from schemas import Alert, AlertExample
from sentiment.windowing import (
    ALL,
    NO_BRAND,
    TUMBLING_15M,
    Key,
    Point,
    WindowAgg,
    Windows,
    WindowSpec,
)


@dataclass(frozen=True, slots=True)
class SpikeConfig:
    """Sensitivity of one brand."""

    k: float = 3.0
    min_count: int = 5
    enabled: bool = True
    min_std: float = 0.05
    baseline_windows: int = 96  # one day of 15-minute windows
    min_baseline_windows: int = 8


@dataclass(slots=True)
class _Baseline:
    """(negative, total) of the key's previous closed windows."""

    windows: deque[tuple[int, int]]

    def stats(self, n: int) -> tuple[float, float]:
        """The pooled negative share p and the standard deviation expected of a window of `n`
        mentions: binomial sampling noise p(1-p)/n plus the windows' own spread beyond sampling
        noise (over-dispersion), so small windows are judged loosely and large ones closely."""
        negative = sum(w[0] for w in self.windows)
        total = sum(w[1] for w in self.windows)
        p = negative / total if total else 0.0
        shares = [w[0] / w[1] for w in self.windows if w[1]]
        mean_share = sum(shares) / len(shares)
        observed = sum((s - mean_share) ** 2 for s in shares) / len(shares)
        sampling = sum(p * (1 - p) / w[1] for w in self.windows if w[1]) / len(shares)
        extra = max(0.0, observed - sampling)
        return p, math.sqrt(p * (1 - p) / max(n, 1) + extra)


@dataclass(slots=True)
class _BrandState:
    in_spike: bool = False
    last_alert_end: datetime | None = None


@dataclass(frozen=True, slots=True)
class _Candidate:
    key: Key
    agg: WindowAgg
    mean: float
    std: float
    n: int
    score: float


@dataclass
class SpikeDetector:
    config_for: Callable[[str | None], SpikeConfig] = lambda brand: SpikeConfig()
    spec: WindowSpec = TUMBLING_15M
    lateness: timedelta = timedelta(minutes=5)
    cooldown: timedelta = timedelta(hours=1)
    idle_after: float = 60.0  # seconds of wall time
    windows: Windows = field(init=False)
    _baselines: dict[Key, _Baseline] = field(default_factory=dict, init=False)
    _brands: dict[str, _BrandState] = field(default_factory=dict, init=False)
    # partition -> (newest event time seen, None before the first; wall time of the last mention)
    _partitions: dict[int, tuple[datetime | None, float]] = field(default_factory=dict, init=False)

    def __post_init__(self) -> None:
        self.windows = Windows(self.spec)

    # ------------------------------------------------------------------ input

    def observe(
        self, point: Point, partition: int = 0, wall: float = 0.0, now: datetime | None = None
    ) -> list[Alert]:
        """Count one mention and judge every window the watermark has closed since.

        `now` (the caller's clock) caps how far the mention moves its partition's watermark: the
        contracts accept a mention dated up to a day ahead, and one such mention on the only active
        partition would otherwise close the present's windows, every mention after it dropped as late."""
        self.windows.add(point)
        event_time = point.created_at if now is None else min(point.created_at, now)
        seen = self._partitions.get(partition)
        if seen is None or seen[0] is None or event_time > seen[0]:
            self._partitions[partition] = (event_time, wall)
        else:
            self._partitions[partition] = (seen[0], wall)
        return self.advance(wall)

    def expect(self, partitions: Iterable[int], wall: float) -> None:
        """The partitions this worker reads now (after each rebalance): one not seen yet holds the
        watermark back until it has been quiet for `idle_after` since it was assigned; one no longer
        assigned stops holding it (another worker reads it)."""
        assigned = set(partitions)
        for partition in set(self._partitions) - assigned:
            del self._partitions[partition]
        for partition in assigned:
            self._partitions.setdefault(partition, (None, wall))

    def advance(self, wall: float) -> list[Alert]:
        """Close what the watermark allows (call it on a timer too, so quiet partitions time out)."""
        watermark = self.watermark(wall)
        return self.close_through(watermark) if watermark is not None else []

    def watermark(self, wall: float) -> datetime | None:
        if not self._partitions:
            return None
        active = [t for t, seen_at in self._partitions.values() if wall - seen_at < self.idle_after]
        if None in active:
            return None  # an assigned partition has not been read yet
        seen = [t for t, _ in self._partitions.values() if t is not None]
        if not seen:
            return None
        newest = min(t for t in active if t is not None) if active else max(seen)
        return newest - self.lateness

    def flush(self) -> list[Alert]:
        """Close every open window (end of a replayed file, or shutdown)."""
        opened = list(self.windows.open_windows())
        if not opened:
            return []
        return self.close_through(opened[-1][0] + self.spec.size)

    # ------------------------------------------------------------------ judging

    def close_through(self, watermark: datetime, emit: bool = True) -> list[Alert]:
        alerts: list[Alert] = []
        for start, by_key in self.windows.close_through(watermark):
            alerts.extend(self._judge(start, by_key, emit))
        return alerts

    def _judge(self, start: datetime, by_key: dict[Key, WindowAgg], emit: bool) -> list[Alert]:
        by_brand: dict[str, list[_Candidate]] = {}
        for key, agg in by_key.items():
            by_brand.setdefault(key[0], [])
            candidate = self._candidate(key, agg)
            if candidate is not None:
                by_brand[key[0]].append(candidate)
        for key, agg in by_key.items():  # the baseline learns after the judgement, spikes left out
            if not any(c.key == key for c in by_brand[key[0]]):
                self._learn(key, agg)
        alerts: list[Alert] = []
        for brand in set(self._brands) | set(by_brand):
            state = self._brands.setdefault(brand, _BrandState())
            candidates = by_brand.get(brand, [])
            if not candidates:
                state.in_spike = False
                continue
            cooling = state.last_alert_end is not None and start < state.last_alert_end + self.cooldown
            if not state.in_spike and not cooling:
                best = max(candidates, key=lambda c: (c.score, c.key == (brand, ALL, ALL)))
                if emit:
                    alerts.append(self._alert(start, best))
                state.last_alert_end = start + self.spec.size
            state.in_spike = True
        return alerts

    def _candidate(self, key: Key, agg: WindowAgg) -> _Candidate | None:
        config = self.config_for(None if key[0] == NO_BRAND else key[0])
        baseline = self._baselines.get(key)
        if not config.enabled or baseline is None or len(baseline.windows) < config.min_baseline_windows:
            return None
        if agg.negative < config.min_count:
            return None
        mean, std = baseline.stats(agg.total)
        spread = max(std, config.min_std)
        if agg.share <= mean + config.k * spread:
            return None
        return _Candidate(key, agg, mean, std, len(baseline.windows), (agg.share - mean) / spread)

    def _learn(self, key: Key, agg: WindowAgg) -> None:
        config = self.config_for(None if key[0] == NO_BRAND else key[0])
        baseline = self._baselines.get(key)
        if baseline is None:
            baseline = self._baselines[key] = _Baseline(deque(maxlen=config.baseline_windows))
        baseline.windows.append((agg.negative, agg.total))

    def _alert(self, start: datetime, c: _Candidate) -> Alert:
        brand, source, topic = c.key
        examples = c.agg.top_examples()
        return Alert(
            brand=None if brand == NO_BRAND else brand,
            source=None if source == ALL else source,
            topic=None if topic == ALL else topic,
            window_start=start,
            window_end=start + self.spec.size,
            negative_count=c.agg.negative,
            total_count=c.agg.total,
            negative_share=c.agg.share,
            baseline_share=min(1.0, max(0.0, c.mean)),
            baseline_std=c.std,
            baseline_windows=c.n,
            k=self.config_for(None if brand == NO_BRAND else brand).k,
            score=round(c.score, 3),
            sample_mention_ids=tuple(e.mention_id for e in examples),
            top_terms=tuple(c.agg.top_terms()),
            examples=tuple(
                AlertExample(mention_id=e.mention_id, negativity=e.negativity, text=e.text[:500])
                for e in examples
            ),
            raised_at=start + self.spec.size,
        )

    # ------------------------------------------------------------------ restart

    def rebuild(self, history: Iterable[Point], alerted: Iterable[tuple[str | None, datetime]] = ()) -> None:
        """Rebuild baselines from stored mentions (oldest first) without raising anything again;
        `alerted` (brand, window_end) of stored alerts restores the one-alert-per-spike state."""
        newest: datetime | None = None
        for point in history:
            self.windows.add(point)
            newest = point.created_at if newest is None or point.created_at > newest else newest
        for brand, window_end in alerted:
            state = self._brands.setdefault(brand or NO_BRAND, _BrandState())
            if state.last_alert_end is None or window_end > state.last_alert_end:
                state.last_alert_end = window_end
        if newest is not None:
            self.close_through(newest - self.lateness, emit=False)
