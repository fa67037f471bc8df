"""`mentiondesk up` decides between collectors and the demo stream: with review pages and feeds in
MD_CONFIG (no token) it runs the collectors and no demo; without a brands config it runs the demo,
which first lays a week of history with one spike, once per database."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from core.db.engine import make_engine, make_session_factory
from core.db.models_analytics import AlertRow
from core.settings import DEFAULT_DESK_ZONE
from ingest.history import HistoryShape, burst_window
from mentiondesk.broker import free_port
from tests.integration.review_support import EXPECTED, review_sites, stored_keys, write_review_config
from tests.support import PROJECT_ROOT, count_rows, wait_until

pytestmark = pytest.mark.pipeline

DEMO_ROWS = 400  # mentiondesk/demo/mentions.jsonl
HISTORY_SQL = "SELECT count(*) FROM mentions WHERE source = 'replay' AND external_id NOT LIKE '%~%'"


def _env(database_url: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MD_")}
    env.update(
        MD_DATABASE_URL=database_url,
        MD_BROKER_PORT=str(free_port()),
        MD_DESK_PORT=str(free_port()),
        MD_WORKER_ID=f"md-up-{uuid.uuid4().hex[:8]}",
        PYTHONUNBUFFERED="1",
        **extra,
    )
    if "MD_MODEL_CACHE_DIR" in os.environ:
        env["MD_MODEL_CACHE_DIR"] = os.environ["MD_MODEL_CACHE_DIR"]
    env.setdefault("MD_LOG_DIR", tempfile.mkdtemp(prefix="md-up-logs-"))  # not the project's var/logs
    return env


def start_up(env: dict[str, str], out: Path, *args: str) -> subprocess.Popen[bytes]:
    """`mentiondesk up ARGS` as a user starts it, its output into `out`."""
    with out.open("wb") as handle:
        return subprocess.Popen(
            [sys.executable, "-m", "mentiondesk.cli", "up", *args],
            env=env,
            cwd=PROJECT_ROOT,
            stdout=handle,
            stderr=subprocess.STDOUT,
        )


@contextlib.contextmanager
def running_up(env: dict[str, str], out: Path, *args: str) -> Iterator[subprocess.Popen[bytes]]:
    """`mentiondesk up ARGS` until its desk is announced; Ctrl-C (and a clean exit) at the end."""
    process = start_up(env, out, *args)
    try:
        assert wait_until(lambda: "Open the desk" in out.read_text(), timeout=180), out.read_text()
        yield process
    finally:
        process.send_signal(signal.SIGINT)
        try:
            code = process.wait(60)
        except subprocess.TimeoutExpired:
            process.kill()
            raise
    assert code == 0, out.read_text()


def _status(printed: str, component: str) -> str:
    """The status line of `component` (the first one), without its leading spaces."""
    lines = [line.strip() for line in printed.splitlines() if line.startswith(f"  {component} ")]
    assert lines, f"no status line for {component}:\n{printed}"
    return lines[0]


def _children(pid: int) -> list[str]:
    """Command lines of the processes whose parent is `pid`."""
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[1]) == pid:
                out.append((stat.parent / "cmdline").read_bytes().replace(b"\0", b" ").decode())
    return out


def test_up_with_review_pages_and_feeds_runs_the_collectors_and_no_demo(tmp_path: Path) -> None:
    database_url = f"sqlite:///{tmp_path}/desk.db"
    out = tmp_path / "up.out"
    with review_sites() as sites:
        config = write_review_config(tmp_path / "brands.toml", sites)
        env = _env(database_url, MD_CONFIG=str(config), MD_POLL_INTERVAL_S="3600")
        with running_up(env, out) as up:
            printed = out.read_text()
            collectors = _status(printed, "collectors")
            assert collectors.startswith("collectors  started  pid "), printed
            assert collectors.endswith(
                "(review:otzovik.com, review:irecommend.ru, rss:127.0.0.1; off: "
                "vk: MD_VK_TOKEN is not set (wanted for acme); "
                "twitter: MD_TWITTER_BEARER_TOKEN is not set (wanted for acme))"
            ), collectors
            assert (
                _status(printed, "demo")
                == "demo        off      collectors are configured; --demo adds the demo stream"
            )
            children = _children(up.pid)
            assert any("mentiondesk.cli collect" in c for c in children), children
            assert not any("replay" in c for c in children), children
            assert wait_until(lambda: stored_keys(database_url) >= EXPECTED, timeout=300), (
                f"missing {sorted(EXPECTED - stored_keys(database_url))}\n{out.read_text()}"
            )
            wait_until(lambda: False, timeout=3)
            assert stored_keys(database_url) == EXPECTED
            assert count_rows(database_url, "SELECT count(*) FROM mentions WHERE source = 'replay'") == 0


def _alerts(database_url: str) -> list[AlertRow]:
    engine = make_engine(database_url)
    try:
        with make_session_factory(engine)() as session:
            return list(session.scalars(select(AlertRow)))
    finally:
        engine.dispose()


def _days_with_mentions(database_url: str) -> set[str]:
    """The desk zone's days (the history is laid down by them) that hold a mention."""
    zone = ZoneInfo(DEFAULT_DESK_ZONE)
    return {
        datetime.fromisoformat(str(at)).replace(tzinfo=UTC).astimezone(zone).date().isoformat()
        for (_, at) in stored_keys(database_url, "SELECT 1, created_at FROM mentions")
    }


def test_up_without_collectors_runs_the_demo_with_a_week_of_history_laid_down_once(tmp_path: Path) -> None:
    database_url = f"sqlite:///{tmp_path}/desk.db"
    env = _env(database_url, MD_DEMO_RATE="1")
    started = datetime.now(UTC)
    today = started.astimezone(ZoneInfo(DEFAULT_DESK_ZONE)).date()  # the desk's day, not UTC's
    past_days = {(today - timedelta(days=n)).isoformat() for n in range(1, 8)}

    first = tmp_path / "up-1.out"
    with running_up(env, first) as up:
        printed = first.read_text()
        assert _status(printed, "collectors") == "collectors  off      no brands config (MD_CONFIG)"
        demo = _status(printed, "demo")
        assert demo.startswith("demo        started  pid "), printed
        assert demo.endswith("(no collector is configured; 7 days of history first, then live at 1/s)"), demo
        assert any("replay" in c and "--history-days 7" in c for c in _children(up.pid))
        assert wait_until(lambda: count_rows(database_url, HISTORY_SQL) >= DEMO_ROWS, timeout=400), (
            f"{count_rows(database_url, HISTORY_SQL)} of {DEMO_ROWS} history rows\n{first.read_text()}"
        )
        assert _days_with_mentions(database_url) >= past_days, "mentions on each of the past 7 days"
        assert wait_until(lambda: len(_alerts(database_url)) >= 1, timeout=120), "no spike alert"
        live = count_rows(database_url, "SELECT count(*) FROM mentions WHERE external_id LIKE '%~%'")
        assert wait_until(
            lambda: (
                count_rows(database_url, "SELECT count(*) FROM mentions WHERE external_id LIKE '%~%'") > live
            ),
            timeout=120,
        ), "the demo streams live after the history"
    (alert,) = _alerts(database_url)
    # `up` runs on the default settings: the history's days are the desk's (Moscow) days
    assert alert.window_start == burst_window(started, HistoryShape(tz=ZoneInfo(DEFAULT_DESK_ZONE)))[0]
    assert alert.brand is None and alert.negative_count >= 5

    second = tmp_path / "up-2.out"
    live_before = count_rows(database_url, "SELECT count(*) FROM mentions WHERE external_id LIKE '%~%'")
    with running_up(env, second) as up:
        demo = _status(second.read_text(), "demo")
        assert demo.endswith("(no collector is configured; history already in the database, live at 1/s)"), (
            demo
        )
        assert not any("--history-days" in c for c in _children(up.pid))
        assert wait_until(
            lambda: (
                count_rows(database_url, "SELECT count(*) FROM mentions WHERE external_id LIKE '%~%'")
                > live_before
            ),
            timeout=180,
        ), "a restarted demo streams new mentions, not the last run's ids again"
    assert count_rows(database_url, HISTORY_SQL) == DEMO_ROWS
    assert len(_alerts(database_url)) == 1, "the history's spike is raised once"
