"""`mentiondesk broker` as compose, systemd and `up` stop it: SIGTERM ends it and its broker."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

from mentiondesk.broker import free_port, port_open
from tests.support import PROJECT_ROOT, wait_until


def test_sigterm_stops_the_broker_command_and_frees_its_port(tmp_path: Path) -> None:
    port = free_port()
    log = tmp_path / "broker.out"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "mentiondesk.cli", "broker", "--port", str(port)],
            cwd=PROJECT_ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        assert wait_until(lambda: port_open("127.0.0.1", port), timeout=60), log.read_text()
        process.send_signal(signal.SIGTERM)
        code = process.wait(15)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert code == 0, log.read_text()
    assert wait_until(lambda: not port_open("127.0.0.1", port), timeout=5), "the broker child outlived it"
