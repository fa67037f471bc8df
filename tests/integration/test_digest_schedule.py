"""`mentiondesk digest --schedule` while the SMTP server is down, then up: the failed try says when
the next one is, the next try (30 s later) sends yesterday's digest through the real SMTP server
(aiosmtpd), and the day is recorded as sent, once."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from aiosmtpd.controller import Controller
from sqlalchemy import text

from core.db.engine import make_engine
from mentiondesk.broker import free_port
from tests.mail_support import Inbox
from tests.support import PROJECT_ROOT, wait_until, worker_env


def _runs(database_url: str) -> list[tuple[str, str, str]]:
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT day, status, recipients FROM digest_runs"))
            return [(r[0], r[1], r[2]) for r in rows]
    except Exception:
        return []
    finally:
        engine.dispose()


def test_schedule_retries_after_smtp_was_down_and_sends_once(sqlite_url: str, tmp_path: Path) -> None:
    port = free_port()  # nothing listens here until the test starts the SMTP server
    env = worker_env(
        "127.0.0.1:1", sqlite_url, MD_SMTP_HOST="127.0.0.1", MD_SMTP_PORT=str(port),
        MD_DIGEST_TO="leads@example.test", MD_DIGEST_TIME="00:00", MD_DIGEST_TIMEZONE="UTC",
        MD_WEEKLY_REPORT_DAY="off",  # the weekly report's own schedule test: test_weekly_report.py
    )  # fmt: skip
    log = tmp_path / "digest.log"
    yesterday = (datetime.now(UTC) - timedelta(days=1)).date().isoformat()
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    smtp_up = False
    with log.open("ab") as handle:
        schedule = subprocess.Popen(
            [sys.executable, "-m", "mentiondesk.cli", "digest", "--schedule", "--no-clusters"],
            env=env, cwd=PROJECT_ROOT, stdout=handle, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        assert wait_until(lambda: "failed (1 in a row), next try at" in log.read_text(), timeout=120), (
            log.read_text()
        )
        assert "(in 30s)" in log.read_text()
        assert _runs(sqlite_url) == [], "a failed try is not recorded as sent"
        controller.start()
        smtp_up = True
        assert wait_until(lambda: len(_runs(sqlite_url)) == 1, timeout=150), log.read_text()
        wait_until(lambda: False, timeout=2)  # would a second mail follow?
    finally:
        schedule.terminate()
        schedule.wait(20)
        if smtp_up:
            controller.stop()

    output = log.read_text()
    assert _runs(sqlite_url) == [(yesterday, "sent", "leads@example.test")]
    assert len(inbox.messages) == 1 and inbox.envelopes[0][1] == ["leads@example.test"]
    assert yesterday in str(inbox.messages[0]["Subject"])
    assert output.count("in a row), next try at") == 1, "one failure, then sent"
    assert f"digest of {yesterday} sent to leads@example.test" in output
