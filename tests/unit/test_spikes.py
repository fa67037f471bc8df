"""The spike detector on event time: one alert per spike, none without, sensitivity per brand."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from sentiment.spikes import SpikeConfig, SpikeDetector
from sentiment.windowing import HOPPING_1H, TUMBLING_15M, Point

START = datetime(2026, 3, 2, 0, 0, tzinfo=UTC)
BURST_AT = START + timedelta(hours=10, minutes=3)


def _stream(brand: str = "acme", hours: int = 14, per_window: int = 12, seed: int = 7) -> list[Point]:
    """A steady stream: ~per_window mentions a quarter hour, about 20% negative."""
    rng = random.Random(seed)
    points = []
    for i in range(hours * 4 * per_window):
        at = START + timedelta(seconds=i * 900 / per_window + rng.uniform(0, 60))
        negative = rng.random() < 0.2
        points.append(
            Point(
                mention_id=f"vk:{brand}-{i}",
                brand=brand,
                source="vk",
                topics=("delivery",) if i % 3 == 0 else (),
                created_at=at,
                negative=negative,
                negativity=0.8 if negative else 0.1,
                text="курьер опоздал" if negative else "всё хорошо",
            )
        )
    return points


def _burst(brand: str = "acme", n: int = 12, at: datetime = BURST_AT, spread_s: int = 600) -> list[Point]:
    return [
        Point(
            mention_id=f"vk:{brand}-burst-{i}",
            brand=brand,
            source="vk",
            topics=("refund",),
            created_at=at + timedelta(seconds=i * spread_s / n),
            negative=True,
            negativity=0.97,
            text=f"refund never arrived, scam #{i}",
        )
        for i in range(n)
    ]


def _run(detector: SpikeDetector, points: list[Point], partitions: int = 1) -> list:  # type: ignore[type-arg]
    alerts = []
    for i, point in enumerate(sorted(points, key=lambda p: p.created_at)):
        alerts.extend(detector.observe(point, partition=i % partitions))
    alerts.extend(detector.flush())
    return alerts


def test_a_burst_raises_exactly_one_alert_in_its_window_and_none_without_it() -> None:
    stream = _stream()
    assert _run(SpikeDetector(), stream) == []

    burst = _burst()
    alerts = _run(SpikeDetector(), stream + burst)
    assert len(alerts) == 1
    alert = alerts[0]
    assert alert.brand == "acme"
    assert alert.window_start == datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
    assert alert.window_end == datetime(2026, 3, 2, 10, 15, tzinfo=UTC)
    burst_ids = {p.mention_id for p in burst}
    assert set(alert.sample_mention_ids) <= burst_ids | {p.mention_id for p in stream}
    assert len(set(alert.sample_mention_ids) & burst_ids) == len(alert.sample_mention_ids) == 5
    assert alert.negative_share > alert.baseline_share
    assert alert.negative_count >= len(burst)
    assert "refund" in alert.top_terms
    assert alert.examples[0].negativity == 0.97


def test_a_long_burst_is_one_alert_not_a_storm() -> None:
    burst = _burst(n=180, spread_s=3 * 3600)  # three hours of complaints, 15 a window
    alerts = _run(SpikeDetector(cooldown=timedelta(0)), _stream() + burst)
    assert len(alerts) == 1


def test_sensitivity_is_per_brand() -> None:
    points = _stream("acme") + _burst("acme") + _stream("globex", seed=8) + _burst("globex")
    configs = {"acme": SpikeConfig(k=3.0), "globex": SpikeConfig(k=50.0)}
    alerts = _run(SpikeDetector(config_for=lambda b: configs[b or ""]), points)
    assert [a.brand for a in alerts] == ["acme"]


def test_min_count_holds_back_small_windows() -> None:
    alerts = _run(SpikeDetector(config_for=lambda b: SpikeConfig(min_count=30)), _stream() + _burst())
    assert alerts == []


def test_out_of_order_partitions_and_redeliveries_change_nothing() -> None:
    points = _stream() + _burst()
    in_order = _run(SpikeDetector(), points)
    detector = SpikeDetector()
    shuffled = sorted(points, key=lambda p: p.created_at)
    alerts = []
    # Four partitions, each a little behind another, and every 10th mention delivered twice.
    for i, point in enumerate(shuffled):
        alerts.extend(detector.observe(point, partition=i % 4))
        if i % 10 == 0:
            alerts.extend(detector.observe(point, partition=i % 4))
    alerts.extend(detector.flush())
    assert [(a.alert_id, a.negative_count, a.total_count) for a in alerts] == [
        (a.alert_id, a.negative_count, a.total_count) for a in in_order
    ]


def test_partitions_fetched_one_pair_after_the_other_change_nothing() -> None:
    """A worker's first fetch may bring two partitions' whole backlog before the other two's: the
    assigned partitions not read yet hold the windows open, so nothing is dropped as late."""
    points = sorted(_stream() + _burst(), key=lambda p: p.created_at)
    in_order = _run(SpikeDetector(), points, partitions=4)
    by_partition = {n: [p for i, p in enumerate(points) if i % 4 == n] for n in range(4)}
    detector = SpikeDetector()
    detector.expect(range(4), wall=0.0)
    alerts = []
    for n in (0, 2, 1, 3):
        for point in by_partition[n]:
            alerts.extend(detector.observe(point, partition=n, wall=1.0))
    alerts.extend(detector.flush())
    assert detector.windows.late == 0
    assert [(a.alert_id, a.negative_count, a.total_count) for a in alerts] == [
        (a.alert_id, a.negative_count, a.total_count) for a in in_order
    ]


def test_an_assigned_partition_holds_the_watermark_only_until_it_proves_quiet_or_is_revoked() -> None:
    point = _stream()[0]
    detector = SpikeDetector(idle_after=60.0)
    detector.expect([0, 1], wall=0.0)
    detector.observe(point, partition=0, wall=1.0)
    assert detector.watermark(wall=59.0) is None  # partition 1 may still bring older mentions
    assert detector.watermark(wall=61.0) == point.created_at - detector.lateness
    detector.expect([0, 1, 2], wall=100.0)  # a rebalance: 2 joins, 0 and 1 keep what they had
    assert detector.watermark(wall=101.0) is None
    detector.expect([0], wall=102.0)  # 1 and 2 go to another worker
    assert detector.watermark(wall=103.0) == point.created_at - detector.lateness


def test_one_mention_dated_a_day_ahead_does_not_blind_the_detector() -> None:
    """Live: each mention observed a minute after it was written, on one partition. One mention dated
    23 hours ahead (the contracts accept up to a day) must not close the present's windows: the burst
    after it is still caught, and every alert is as it is without that mention."""
    points = sorted(_stream() + _burst(), key=lambda p: p.created_at)
    at = next(i for i, p in enumerate(points) if p.created_at > START + timedelta(hours=9))
    far = replace(
        points[at], mention_id="vk:acme-far", created_at=points[at].created_at + timedelta(hours=23)
    )

    def live(stream: list[Point]) -> list[tuple[datetime, int]]:
        detector = SpikeDetector()
        alerts = []
        clock = START
        for point in stream:
            if point is not far:
                clock = point.created_at + timedelta(minutes=1)
            alerts.extend(detector.observe(point, partition=0, now=clock))
        alerts.extend(detector.flush())
        return [(a.window_start, a.negative_count) for a in alerts]

    expected = live(points)
    assert START + timedelta(hours=10) in [start for start, _ in expected]  # the burst's window
    assert live([*points[:at], far, *points[at:]]) == expected


def test_rebuilt_baselines_still_catch_a_burst_and_do_not_repeat_an_old_alert() -> None:
    stream = sorted(_stream() + _burst(), key=lambda p: p.created_at)
    before = [p for p in stream if p.created_at < START + timedelta(hours=8)]
    after = [p for p in stream if p.created_at >= START + timedelta(hours=8)]
    restarted = SpikeDetector()
    restarted.rebuild(before)
    alerts = _run(restarted, after)
    assert len(alerts) == 1 and alerts[0].window_start.hour == 10

    # The burst was already alerted before the restart: rebuilding past it raises nothing again.
    upto = [p for p in stream if p.created_at < START + timedelta(hours=10, minutes=40)]
    rest = [p for p in stream if p.created_at >= START + timedelta(hours=10, minutes=40)]
    again = SpikeDetector()
    again.rebuild(upto, alerted=[("acme", datetime(2026, 3, 2, 10, 15, tzinfo=UTC))])
    assert _run(again, rest) == []


def test_window_kinds() -> None:
    at = datetime(2026, 3, 2, 10, 7, tzinfo=UTC)
    assert TUMBLING_15M.starts(at) == [datetime(2026, 3, 2, 10, 0, tzinfo=UTC)]
    assert HOPPING_1H.starts(at) == [
        datetime(2026, 3, 2, 9, 15, tzinfo=UTC),
        datetime(2026, 3, 2, 9, 30, tzinfo=UTC),
        datetime(2026, 3, 2, 9, 45, tzinfo=UTC),
        datetime(2026, 3, 2, 10, 0, tzinfo=UTC),
    ]


def test_only_a_mention_whose_windows_have_closed_counts_as_late() -> None:
    """The worker logs late mentions: a redelivery into a window still open is no news."""
    from sentiment.windowing import Windows

    windows = Windows(TUMBLING_15M)
    point = _stream()[0]
    assert windows.add(point) and not windows.add(point)  # delivered twice, counted once
    assert windows.late == 0
    list(windows.close_through(point.created_at + timedelta(minutes=15)))
    assert not windows.add(replace(point, mention_id="vk:after-close"))
    assert windows.late == 1
