"""`mentiondesk up`'s restarts under a fake clock: growing delays scheduled without holding up the
other children, a count that starts again after a healthy run, giving up on a child that keeps
failing, and a non-zero exit when the child given up on is essential."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest

from core.settings import Settings
from ingest.collectors import CollectorPlan
from mentiondesk import runtime
from mentiondesk.runtime import Child, RestartPolicy, RestartTracker, Supervisor

POLICY = RestartPolicy()  # 1 s doubling to 60 s; reset after 5 min healthy; 10 failures in 1 h


def test_delays_grow_to_the_cap_and_the_tenth_failure_within_the_hour_gives_up() -> None:
    tracker = RestartTracker(POLICY)
    now, delays = 0.0, []
    for _ in range(9):
        decision = tracker.exited(started_at=now, now=now + 2)  # each run lasts 2 s
        assert not decision.give_up and decision.restart_at is not None
        delays.append(decision.delay)
        now = decision.restart_at
    assert delays == [1, 2, 4, 8, 16, 32, 60, 60, 60]
    final = tracker.exited(started_at=now, now=now + 2)
    assert final.give_up and final.failures == 10 and now + 2 < 3600


def test_a_healthy_run_longer_than_the_reset_period_starts_the_count_again() -> None:
    tracker = RestartTracker(POLICY)
    for at in range(0, 50, 10):  # five quick failures
        tracker.exited(started_at=at, now=at + 1)
    assert tracker.exited(started_at=100, now=101).delay == 32  # the sixth in a row
    healthy = tracker.exited(started_at=200, now=200 + POLICY.healthy_after + 1)
    assert healthy.failures == 1 and healthy.delay == 1


def test_failures_older_than_the_window_do_not_count_toward_giving_up() -> None:
    tracker = RestartTracker(RestartPolicy(healthy_after=10_000))
    for i in range(9):  # nine failures, ten minutes apart: never healthy, but spread out
        assert not tracker.exited(started_at=i * 600, now=i * 600 + 1).give_up
    late = tracker.exited(started_at=9 * 600, now=3600 + 9 * 600)
    assert not late.give_up and late.failures < 10


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class FakeChild(Child):
    """A child whose runs last `lives` seconds of the fake clock (forever when None)."""

    def __init__(self, name: str, clock: FakeClock, lives: float | None, essential: bool = False) -> None:
        super().__init__(name, [name], Path(f"var/logs/{name}.log"), {}, essential=essential)
        self.clock = clock
        self.lives = lives
        self.starts: list[float] = []

    def start(self, now: float) -> None:
        self.starts.append(now)
        self.started_at = now
        self.restart_at = None

    def alive(self) -> bool:
        return self.lives is None or self.clock.now < self.started_at + self.lives

    def exit_code(self) -> int | None:
        return None if self.alive() else 1

    def pid(self) -> int | str:
        return 1000 + len(self.starts)

    def stop(self, timeout: float = 10.0) -> None:
        self.lives = 0


class FakeSupervisor(Supervisor):
    def __init__(self, children: list[Child], clock: FakeClock, until: float) -> None:
        def sleep(seconds: float) -> None:  # Ctrl-C at `until`
            clock.now += seconds
            if clock.now >= until:
                raise KeyboardInterrupt

        super().__init__(Settings(_env_file=None, kafka_bootstrap="fake:9092"), clock=clock, sleep=sleep)
        self.fake_children = children

    def _prepare(self, bootstrap: str) -> None:
        pass

    def _children(self, bootstrap: str, plan: CollectorPlan) -> tuple[list[Child], list[tuple[str, str]]]:
        return self.fake_children, []


@pytest.fixture(autouse=True)
def _no_signals_or_desk(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(signal, "signal", lambda *args: None)
    monkeypatch.setattr(runtime, "wait_http_ok", lambda url, timeout: True)


def _lines(printed: str, name: str, state: str) -> list[str]:
    return [line.strip() for line in printed.splitlines() if line.startswith(f"  {name:<11} {state} ")]


def test_a_failing_optional_child_is_restarted_with_growing_delays_then_left_stopped(
    capsys: pytest.CaptureFixture[str],
) -> None:
    clock = FakeClock()
    demo = FakeChild("demo", clock, lives=0.5)
    worker = FakeChild("worker", clock, lives=None, essential=True)
    desk = FakeChild("desk", clock, lives=None, essential=True)
    code = FakeSupervisor([worker, demo, desk], clock, until=3000).run()

    assert code == 0  # Ctrl-C at the end; the demo's giving up took nothing down
    assert worker.starts == [0] and desk.starts == [0]
    assert len(demo.starts) == 10  # the first run and nine restarts
    gaps = [b - a for a, b in zip(demo.starts, demo.starts[1:], strict=False)]
    assert gaps == sorted(gaps) and gaps[0] <= 2 and gaps[-1] >= 60
    printed = capsys.readouterr().out
    restarts = _lines(printed, "demo", "restart")
    assert len(restarts) == 9
    assert restarts[0] == (
        "demo        restart  exited with 1; restarting in 1s (failure 1; gives up at 10 within 1h); "
        "see var/logs/demo.log"
    )
    assert "restarting in 60s (failure 9;" in restarts[-1]
    assert _lines(printed, "demo", "gave up") == [
        "demo        gave up  exited with 1, 10 failures within 1h; left stopped, the rest keeps running; "
        "see var/logs/demo.log"
    ]
    assert "FAILED" not in printed


def test_a_child_that_runs_healthy_between_failures_is_never_given_up(
    capsys: pytest.CaptureFixture[str],
) -> None:
    clock = FakeClock()
    publisher = FakeChild("publisher", clock, lives=POLICY.healthy_after + 10)
    worker = FakeChild("worker", clock, lives=None, essential=True)
    code = FakeSupervisor([worker, publisher], clock, until=30 * (POLICY.healthy_after + 12)).run()
    assert code == 0
    assert len(publisher.starts) > POLICY.give_up_after
    runs = POLICY.healthy_after + 10
    gaps = [b - a - runs for a, b in zip(publisher.starts, publisher.starts[1:], strict=False)]
    assert max(gaps) <= 2  # every failure is a first one again: restarted after 1 s
    assert "gave up" not in capsys.readouterr().out


def test_giving_up_on_an_essential_child_stops_everything_with_a_non_zero_status(
    capsys: pytest.CaptureFixture[str],
) -> None:
    clock = FakeClock()
    worker = FakeChild("worker", clock, lives=0.5, essential=True)
    desk = FakeChild("desk", clock, lives=None, essential=True)
    code = FakeSupervisor([worker, desk], clock, until=100_000).run()
    assert code == 1
    assert clock.now < 3600 and len(worker.starts) == 10 and desk.starts == [0]
    printed = capsys.readouterr().out
    assert len(_lines(printed, "worker", "restart")) == 9
    assert _lines(printed, "worker", "FAILED") == [
        "worker      FAILED   exited with 1, 10 failures within 1h; gave up, stopping everything; "
        "see var/logs/worker.log"
    ]
    assert _lines(printed, "desk", "stopped") == ["desk        stopped"]
