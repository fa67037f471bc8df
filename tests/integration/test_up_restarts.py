"""`mentiondesk up` with a demo child that cannot run (MD_DEMO_FILE names no file): the
demo is restarted with growing delays while `up` keeps running and the desk answers."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from mentiondesk.runtime import wait_http_ok
from tests.integration.test_up_sources import _env, running_up
from tests.support import wait_until

pytestmark = pytest.mark.pipeline

RESTART = re.compile(
    r"^  demo        restart  exited with 1; restarting in (\d+)s "
    r"\(failure (\d+); gives up at 10 within 1h\); see (\S+)/demo\.log$",
    re.M,
)


def test_up_restarts_a_failing_demo_with_growing_delays_and_keeps_running(tmp_path: Path) -> None:
    logs = tmp_path / "logs"  # MD_LOG_DIR: where `up` writes each child's log
    env = _env(
        f"sqlite:///{tmp_path}/desk.db", MD_DEMO_FILE=str(tmp_path / "missing.jsonl"), MD_LOG_DIR=str(logs)
    )
    out = tmp_path / "up.out"
    with running_up(env, out) as up:
        assert wait_until(lambda: len(RESTART.findall(out.read_text())) >= 3, timeout=40), out.read_text()
        restarts = RESTART.findall(out.read_text())
        assert [int(delay) for delay, _, _ in restarts[:3]] == [1, 2, 4], out.read_text()
        assert [int(failure) for _, failure, _ in restarts[:3]] == [1, 2, 3]
        assert {folder for _, _, folder in restarts} == {str(logs)}
        assert "missing.jsonl" in (logs / "demo.log").read_text("utf-8"), "the demo's own error is in its log"
        assert {"broker.log", "worker.log", "desk.log"} <= {p.name for p in logs.iterdir()}
        assert up.poll() is None, out.read_text()
        port = env["MD_DESK_PORT"]
        assert wait_http_ok(f"http://127.0.0.1:{port}/_stcore/health", timeout=10)
        printed = out.read_text()
        assert "FAILED" not in printed and "gave up" not in printed, printed
