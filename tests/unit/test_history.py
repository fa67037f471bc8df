"""The demo's history: the replay file laid over the past week (working hours, one burst window),
deterministic, and the replay that sends it before streaming live."""

from __future__ import annotations

import json
import random
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from ingest.history import HistoryShape, burst_window, history_days, spread_history
from ingest.replay import read_burst_ids, read_mentions, replay
from mentiondesk.runtime import DEMO_FILE
from schemas import Mention
from sentiment.spikes import SpikeDetector
from sentiment.windowing import Point

NOW = datetime(2026, 11, 26, 8, 30, tzinfo=UTC)  # a Thursday
SHIPPED_BURST = DEMO_FILE.with_name("burst_ids.txt")


def _demo() -> list[Mention]:
    return list(read_mentions(DEMO_FILE))


def test_the_shipped_sample_is_spread_over_the_seven_days_before_today() -> None:
    mentions = _demo()
    history = spread_history(mentions, now=NOW, burst_ids=read_burst_ids(SHIPPED_BURST))

    assert sorted(m.external_id for m in history) == sorted(m.external_id for m in mentions)
    assert [m.created_at for m in history] == sorted(m.created_at for m in history)
    today = datetime(2026, 11, 26, tzinfo=UTC)
    assert all(today - timedelta(days=7) <= m.created_at < today for m in history), "all in the past"
    per_day = Counter(m.created_at.date() for m in history)
    assert sorted(per_day) == [date(2026, 11, d) for d in range(19, 26)], "every one of the 7 days"
    weekend = per_day[date(2026, 11, 21)] + per_day[date(2026, 11, 22)]
    assert weekend < per_day[date(2026, 11, 24)] + per_day[date(2026, 11, 25)], "weekends are quieter"
    assert all(m.collected_at == NOW for m in history)


def test_thread_starters_fall_mostly_in_working_hours_and_replies_follow_their_parents() -> None:
    history = spread_history(_demo(), now=NOW)
    at = {m.external_id: m.created_at for m in history}
    starters = [m for m in history if m.parent_external_id is None]
    working = sum(9 <= m.created_at.hour < 19 for m in starters)
    assert working / len(starters) > 0.7
    assert all(7 <= m.created_at.hour < 23 for m in starters)
    replies = [m for m in history if m.parent_external_id is not None]
    assert replies
    assert all(at[m.parent_external_id] < m.created_at for m in replies if m.parent_external_id)


def test_the_burst_is_one_quarter_hour_on_the_middle_day_and_nothing_else_is_in_it() -> None:
    burst_ids = read_burst_ids(SHIPPED_BURST)
    assert len(burst_ids) == 30
    history = spread_history(_demo(), now=NOW, burst_ids=burst_ids)
    start, end = burst_window(NOW, HistoryShape())

    assert (start, end) == (
        datetime(2026, 11, 22, 11, 0, tzinfo=UTC),
        datetime(2026, 11, 22, 11, 15, tzinfo=UTC),
    )
    inside = {m.external_id for m in history if start <= m.created_at < end}
    assert inside == burst_ids


def test_the_same_input_gives_the_same_history_and_another_seed_another() -> None:
    mentions = _demo()
    first = spread_history(mentions, now=NOW, shape=HistoryShape(seed=3))
    again = spread_history(mentions, now=NOW + timedelta(hours=10), shape=HistoryShape(seed=3))
    other = spread_history(mentions, now=NOW, shape=HistoryShape(seed=4))
    assert [(m.external_id, m.created_at) for m in first] == [(m.external_id, m.created_at) for m in again]
    assert [m.created_at for m in first] != [m.created_at for m in other]


def test_days_are_the_zones_days() -> None:
    moscow = ZoneInfo("Europe/Moscow")
    shape = HistoryShape(days=3, tz=moscow)
    now = datetime(2026, 11, 26, 22, 30, tzinfo=UTC)  # already the 27th in Moscow
    assert [d.isoformat() for d in history_days(now, shape)] == [
        "2026-11-24T00:00:00+03:00",
        "2026-11-25T00:00:00+03:00",
        "2026-11-26T00:00:00+03:00",
    ]
    assert burst_window(now, shape)[0] == datetime(2026, 11, 25, 8, 0, tzinfo=UTC)  # 11:00 Moscow
    history = spread_history(_demo(), now=now, shape=shape)
    assert all(
        7 <= m.created_at.astimezone(moscow).hour < 23 for m in history if m.parent_external_id is None
    )
    with pytest.raises(ValueError):
        HistoryShape(days=0)


def test_the_burst_raises_exactly_one_spike_alert_in_its_window() -> None:
    """The detector of sentiment/spikes.py (defaults k=3, min_count=5) over the history, with the
    burst negative and the rest negative at the sample's rate (155 of 400)."""
    burst_ids = read_burst_ids(SHIPPED_BURST)
    rng = random.Random(0)
    for day in range(7):
        now = NOW + timedelta(days=day)
        history = spread_history(_demo(), now=now, burst_ids=burst_ids)
        detector = SpikeDetector()
        alerts = []
        for n, m in enumerate(history):
            negative = m.external_id in burst_ids or rng.random() < 125 / 370
            point = Point(f"replay:{m.external_id}", None, "replay", (), m.created_at, negative, 0.9, m.text)
            alerts += detector.observe(point, partition=n % 4)
        alerts += detector.flush()
        assert [a.window_start for a in alerts] == [burst_window(now, HistoryShape())[0]], now


def test_replay_sends_the_history_once_with_the_files_ids_then_streams_live_with_fresh_ones(
    tmp_path: Path,
) -> None:
    path = tmp_path / "m.jsonl"
    rows = [{"id": f"p{i}", "text": f"text {i}"} for i in range(5)] + [
        {"id": "r0", "text": "re", "parent_id": "p0"}
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), "utf-8")
    sent: list[Mention] = []
    replay(
        path,
        sent.append,
        loop=True,
        history=HistoryShape(days=2),
        burst_ids={"p1", "p2"},
        should_stop=lambda: len(sent) >= 6 + 12,
        clock=lambda: NOW,
    )
    history, live = sent[:6], sent[6:]
    assert sorted(m.external_id for m in history) == ["p0", "p1", "p2", "p3", "p4", "r0"]
    assert all(m.created_at < datetime(2026, 11, 26, tzinfo=UTC) for m in history)
    assert all(m.created_at == NOW for m in live)
    assert {m.external_id for m in history}.isdisjoint(m.external_id for m in live)
    assert len({m.external_id for m in live}) == 12
    # a later run's live rounds get other ids: a restart streams new mentions, not the old ones
    again: list[Mention] = []
    replay(
        path,
        again.append,
        loop=True,
        history=HistoryShape(days=2),
        should_stop=lambda: len(again) >= 12,
        clock=lambda: NOW + timedelta(seconds=5),
    )
    assert sorted(m.external_id for m in again[:6]) == sorted(m.external_id for m in history)
    assert {m.external_id for m in again[6:]}.isdisjoint(m.external_id for m in live)


def test_without_loop_the_history_is_all(tmp_path: Path) -> None:
    path = tmp_path / "m.jsonl"
    path.write_text("".join(json.dumps({"text": f"t{i}"}) + "\n" for i in range(4)), "utf-8")
    sent: list[Mention] = []
    stats = replay(path, sent.append, history=HistoryShape(), clock=lambda: NOW)
    assert len(sent) == 4 and stats.read == 4


def test_burst_id_files_skip_comments_and_blank_lines(tmp_path: Path) -> None:
    path = tmp_path / "ids.txt"
    path.write_text("# chosen by hand\n\na1\n a2  # the worst\n", "utf-8")
    assert read_burst_ids(path) == {"a1", "a2"}
