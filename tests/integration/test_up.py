"""`mentiondesk up` as a user runs it: every component starts, demo mentions reach the desk, Ctrl-C
stops everything."""

from __future__ import annotations

import os
import signal
import subprocess
import time
import uuid
from pathlib import Path

import pytest

from mentiondesk.broker import free_port, port_open
from tests.integration.test_up_sources import start_up
from tests.support import count_rows, wait_until

pytestmark = pytest.mark.pipeline


def test_up_starts_the_whole_pipeline_and_stops_cleanly(tmp_path: Path) -> None:
    database_url = f"sqlite:///{tmp_path}/desk.db"
    broker_port, desk_port = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("MD_")}
    env.update(
        MD_DATABASE_URL=database_url,
        MD_BROKER_PORT=str(broker_port),
        MD_DESK_PORT=str(desk_port),
        MD_DEMO_RATE="20",
        MD_WORKER_ID=f"md-up-test-{uuid.uuid4().hex[:8]}",  # a consumer group of its own
        MD_LOG_DIR=str(tmp_path / "logs"),
        PYTHONUNBUFFERED="1",
    )
    if "MD_MODEL_CACHE_DIR" in os.environ:
        env["MD_MODEL_CACHE_DIR"] = os.environ["MD_MODEL_CACHE_DIR"]
    out = tmp_path / "up.out"
    process = start_up(env, out)
    try:
        assert wait_until(lambda: "Open the desk" in out.read_text(), timeout=120), out.read_text()
        printed = out.read_text()
        for component in ("broker", "database", "worker", "demo", "desk", "collectors"):
            assert f"  {component} " in printed, f"no status line for {component}:\n{printed}"
        assert f"http://127.0.0.1:{desk_port}" in printed
        assert wait_until(lambda: count_rows(database_url) >= 20, timeout=240), out.read_text()
    finally:
        process.send_signal(signal.SIGINT)
        try:
            code = process.wait(60)
        except subprocess.TimeoutExpired:
            process.kill()
            raise
    assert code == 0, out.read_text()
    time.sleep(0.5)
    assert not port_open("127.0.0.1", broker_port) and not port_open("127.0.0.1", desk_port)
    assert "stopped" in out.read_text()
