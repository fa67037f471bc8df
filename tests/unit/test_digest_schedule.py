"""The digest scheduler under a fake clock and sleep, with its `digest_runs` in a real SQLite file:
the model is built once however many days and retries there are, failed tries wait 30 s doubling
to 30 min and say when the next one is, and a success starts the delays again from 30 s."""

from __future__ import annotations

import itertools
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

import numpy as np
import numpy.typing as npt
import pytest
from sqlalchemy import text

from core.db.engine import make_engine
from core.settings import Settings
from desk.services.complaints import Embedder
from desk.services.digest_run import Backoff, run_schedule

START = datetime(2026, 1, 6, 6, 59, tzinfo=UTC)  # a minute before MD_DIGEST_TIME


@dataclass
class FakeTime:
    now: datetime = START
    until: datetime = START + timedelta(hours=1)

    def clock(self) -> datetime:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)

    def stop(self) -> bool:
        return self.now >= self.until


@dataclass
class Mailer:
    """Fails the tries whose number (1-based, over the whole run) is in `failing`."""

    failing: set[int] = field(default_factory=set)
    tries: list[tuple[date, datetime, Embedder | None]] = field(default_factory=list)

    def __call__(self, day: date, embed: Embedder | None, now: datetime) -> list[str]:
        self.tries.append((day, now, embed))
        if len(self.tries) in self.failing:
            raise ConnectionRefusedError(111, "Connection refused")
        return ["leads@example.test"]

    def gaps(self, day: date) -> list[float]:
        times = [now for d, now, _ in self.tries if d == day]
        return [(b - a).total_seconds() for a, b in itertools.pairwise(times)]


def _embed(texts: Sequence[str]) -> npt.NDArray[np.float32]:
    return np.array([[float(len(t))] for t in texts], dtype=np.float32)


class ModelFactory:
    def __init__(self) -> None:
        self.calls = 0

    def __call__(self) -> Embedder:
        self.calls += 1
        return _embed


def _settings(sqlite_url: str) -> Settings:
    return Settings(
        _env_file=None, database_url=sqlite_url, digest_time="07:00", digest_timezone="UTC",
        digest_to="leads@example.test", smtp_host="127.0.0.1",
    )  # fmt: skip


def _runs(sqlite_url: str) -> list[str]:
    engine = make_engine(sqlite_url)
    try:
        with engine.connect() as conn:
            return [r[0] for r in conn.execute(text("SELECT day FROM digest_runs ORDER BY day"))]
    finally:
        engine.dispose()


def _run(sqlite_url: str, mailer: Mailer, time: FakeTime, factory: ModelFactory | None = None) -> None:
    run_schedule(
        _settings(sqlite_url),
        embedder=factory or ModelFactory(),
        clock=time.clock,
        should_stop=time.stop,
        sleep=time.sleep,
        attempt=mailer,
    )


def test_the_model_is_built_once_across_days_and_retries(sqlite_url: str) -> None:
    mailer = Mailer(failing={1, 2, 4})  # day 1: two failures then sent; day 2: one failure then sent
    factory = ModelFactory()
    _run(sqlite_url, mailer, FakeTime(until=START + timedelta(days=2)), factory)

    assert factory.calls == 1
    assert all(embed is _embed for _, _, embed in mailer.tries), "every try got the one model"
    assert [d.isoformat() for d, _, _ in mailer.tries] == ["2026-01-05"] * 3 + ["2026-01-06"] * 2
    assert _runs(sqlite_url) == ["2026-01-05", "2026-01-06"], "each day sent once, after its retries"


def test_delays_between_failed_tries_double_up_to_thirty_minutes(
    sqlite_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    mailer = Mailer(failing=set(range(1, 100)))
    with caplog.at_level(logging.ERROR, logger="desk.services.digest_run"):
        _run(sqlite_url, mailer, FakeTime(until=START + timedelta(hours=3)))

    gaps = mailer.gaps(date(2026, 1, 5))
    assert gaps[:7] == [30, 60, 120, 240, 480, 960, 1800]
    assert len(gaps) > 7 and set(gaps[7:]) == {1800}, "the cap holds"
    first_try = mailer.tries[0][1]
    assert (
        f"digest of 2026-01-05 failed (1 in a row), next try at "
        f"{(first_try + timedelta(seconds=30)).isoformat(timespec='seconds')} (in 30s)"
    ) in caplog.text
    assert "failed (3 in a row), next try at" in caplog.text and "(in 120s)" in caplog.text
    assert _runs(sqlite_url) == []


def test_a_success_starts_the_delays_again_from_thirty_seconds(sqlite_url: str) -> None:
    # day 1: four failures (30, 60, 120, 240 s) then sent; day 2: three failures then sent
    mailer = Mailer(failing={1, 2, 3, 4, 6, 7, 8})
    _run(sqlite_url, mailer, FakeTime(until=START + timedelta(days=2)))

    assert mailer.gaps(date(2026, 1, 5)) == [30, 60, 120, 240]
    assert mailer.gaps(date(2026, 1, 6)) == [30, 60, 120], "not 480 s: the success reset the count"
    assert _runs(sqlite_url) == ["2026-01-05", "2026-01-06"]


def test_backoff_policy() -> None:
    backoff = Backoff()
    assert [backoff.failed() for _ in range(9)] == [30, 60, 120, 240, 480, 960, 1800, 1800, 1800]
    backoff.succeeded()
    assert backoff.failed() == 30
