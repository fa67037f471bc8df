"""A history for a replay file: its mentions laid over the past days, so a first run of the demo has
trends, KPIs and a digest to show, and a spike alert to raise. Pure: the clock is an argument.

The days are the `days` whole days before today (in `tz`, the zone the digest calls "the day"), so
every mention is in the past and the layout is the same whichever hour it is computed at. Thread
starters fall mostly in working hours (and less on weekends); a reply follows its parent by minutes
to hours. The thread starters named in `burst_ids` all fall into one 15-minute window on one day
(11:00 of the middle day), which nothing else shares: a burst of negative mentions there is a spike
(see sentiment/spikes.py). The same mentions, `now`, seed and zone always give the same history.
"""

from __future__ import annotations

import random
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta, tzinfo

from schemas import Mention

WINDOW = timedelta(minutes=15)  # the spike detector's tumbling window
WORK_HOURS = (9, 19)  # local hours most thread starters fall in
WAKING_HOURS = (7, 23)  # the rest fall in these hours outside WORK_HOURS
WORK_SHARE = 0.8
WEEKEND_WEIGHT = 0.5
BURST_HOUR = 11
REPLY_DELAY_S = (120.0, 3 * 3600.0)


@dataclass(frozen=True, slots=True)
class HistoryShape:
    days: int = 7
    seed: int = 0
    tz: tzinfo = UTC

    def __post_init__(self) -> None:
        if self.days < 1:
            raise ValueError("a history needs at least one day")


def history_days(now: datetime, shape: HistoryShape) -> list[datetime]:
    """Midnights (in the shape's zone) of the history's days, oldest first; the last is yesterday."""
    today = datetime.combine(now.astimezone(shape.tz).date(), time(0), tzinfo=shape.tz)
    return [_local_midnight(today, back) for back in range(shape.days, 0, -1)]


def burst_window(now: datetime, shape: HistoryShape) -> tuple[datetime, datetime]:
    """[start, end) of the burst: 11:00 local on the middle day of the history."""
    day = history_days(now, shape)[(shape.days - 1) // 2]
    start = day.replace(hour=BURST_HOUR)
    return start.astimezone(UTC), (start + WINDOW).astimezone(UTC)


def spread_history(
    mentions: Sequence[Mention],
    *,
    now: datetime,
    shape: HistoryShape = HistoryShape(),
    burst_ids: Collection[str] = (),
) -> list[Mention]:
    """Copies of `mentions` with `created_at` spread over the shape's days (see the module),
    `collected_at` = now, oldest first; parents always before their replies. Ids are untouched."""
    rng = random.Random(shape.seed)
    days = history_days(now, shape)
    end = datetime.combine(now.astimezone(shape.tz).date(), time(0), tzinfo=shape.tz).astimezone(UTC)
    burst_start, burst_end = burst_window(now, shape)
    weights = [WEEKEND_WEIGHT if day.weekday() >= 5 else 1.0 for day in days]
    by_id = {m.external_id: i for i, m in enumerate(mentions)}

    def parent_of(index: int) -> int | None:
        parent = mentions[index].parent_external_id
        found = by_id.get(parent) if parent else None
        return found if found is not None and found != index else None

    burst = [i for i, m in enumerate(mentions) if m.external_id in burst_ids and parent_of(i) is None]
    times: dict[int, datetime] = {}
    step = (WINDOW - timedelta(seconds=60)) / max(len(burst), 1)
    for n, index in enumerate(burst):
        times[index] = burst_start + timedelta(seconds=30) + step * n

    def outside_burst(at: datetime) -> datetime:
        return at + WINDOW if burst_start <= at < burst_end else at

    def starter_time() -> datetime:
        day = rng.choices(days, weights)[0]
        return outside_burst((day + _time_of_day(rng)).astimezone(UTC))

    def place(index: int, chain: frozenset[int] = frozenset()) -> datetime:
        if index in times:
            return times[index]
        parent = parent_of(index)
        if parent is None or parent in chain:  # a thread starter (or a cycle in the file)
            times[index] = starter_time()
            return times[index]
        after = place(parent, chain | {index})
        delay = timedelta(seconds=rng.uniform(*REPLY_DELAY_S))
        at = after + delay if after + delay < end else after + (end - after) / 2
        at = outside_burst(at)
        times[index] = at if at < end else after + (end - after) / 2
        return times[index]

    for index in range(len(mentions)):
        place(index)
    order = sorted(range(len(mentions)), key=lambda i: (times[i], i))
    return [mentions[i].model_copy(update={"created_at": times[i], "collected_at": now}) for i in order]


def _local_midnight(today: datetime, back: int) -> datetime:
    """Midnight `back` days before `today` (a local midnight), right across a DST change too."""
    day = (today - timedelta(days=back)).date()
    return datetime.combine(day, time(0), tzinfo=today.tzinfo)


def _time_of_day(rng: random.Random) -> timedelta:
    """Mostly working hours, the rest spread over the waking hours around them."""
    if rng.random() < WORK_SHARE:
        hours = rng.uniform(*WORK_HOURS)
    else:
        before = WORK_HOURS[0] - WAKING_HOURS[0]
        after = WAKING_HOURS[1] - WORK_HOURS[1]
        offset = rng.uniform(0, before + after)
        hours = WAKING_HOURS[0] + offset if offset < before else WORK_HOURS[1] + offset - before
    return timedelta(seconds=round(hours * 3600))


__all__ = ["HistoryShape", "burst_window", "history_days", "spread_history"]
