"""`mentiondesk up` loses its embedded broker (killed) while 50 replies sent from the desk wait on an
X rate limit; after `up` starts again with an empty broker, each reply reaches X exactly once
(X has no idempotency key: the outbox hands them over again, the publisher looks before it posts)."""

from __future__ import annotations

import os
import signal
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from core.bus.producer import publish_reply
from core.db.engine import make_engine, make_session_factory, migrate
from core.db.models import Thread
from core.db.models_ingest import Reply as ReplyRow
from desk.services.replies import dispatch, send_reply
from desk.services.sync import sync_threads
from desk.services.thread_view import snapshot
from tests.desk_support import actor, save, setup_desk
from tests.factories import scored_mention
from tests.fakes.twitter_server import FakeTwitter
from tests.fakes.twitter_server import generate as generate_tweets
from tests.integration.posting_support import x_posting
from tests.integration.review_support import review_sites, write_review_config
from tests.integration.test_up_sources import _env, running_up, start_up
from tests.support import wait_until

pytestmark = pytest.mark.pipeline

REPLIES = 50


def _descendants(pid: int) -> dict[int, str]:
    """pid -> command line of every process below `pid`."""
    parents: dict[int, int] = {}
    lines: dict[int, str] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            child = int(stat.parent.name)
            parents[child] = int(fields[1])
            lines[child] = (stat.parent / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except (OSError, IndexError, ValueError):
            continue
    found: dict[int, str] = {}
    frontier = [pid]
    while frontier:
        current = frontier.pop()
        for child, parent in parents.items():
            if parent == current and child not in found:
                found[child] = lines[child]
                frontier.append(child)
    return found


def _statuses(database_url: str) -> list[str]:
    engine = make_engine(database_url)
    try:
        with make_session_factory(engine)() as session:
            return list(session.scalars(select(ReplyRow.status)))
    finally:
        engine.dispose()


def test_replies_waiting_when_the_broker_dies_reach_x_once_after_up_restarts(tmp_path: Path) -> None:
    database_url = f"sqlite:///{tmp_path}/desk.db"
    migrate(database_url)
    engine = make_engine(database_url)
    sessions = make_session_factory(engine)
    tweets = generate_tweets({"acme": "101"}, per_brand=4 * REPLIES)
    customer = [t for t in tweets.tweets.values() if t["author_id"] != "101"][:REPLIES]
    setup_desk(sessions)
    now = datetime.now(UTC)
    save(
        sessions,
        [
            scored_mention(t["id"], source="twitter", thread_key=f"twitter:{t['id']}", created_at=now)
            for t in customer
        ],
    )
    with sessions.begin() as session:
        sync_threads(session, now)
    with review_sites() as sites, FakeTwitter(tweets, me="101") as tw:
        config = write_review_config(tmp_path / "brands.toml", sites)
        env = _env(
            database_url,
            MD_CONFIG=str(config),  # review pages: collectors run, so no demo
            MD_POLL_INTERVAL_S="3600",
            MD_REPLY_REDELIVER_S="3",
            **x_posting(tw),
        )
        bootstrap = f"127.0.0.1:{env['MD_BROKER_PORT']}"
        tw.posts_limited_until = time.time() + 40  # X: wait; the replies pile up on the broker
        first_out = tmp_path / "up-1.out"
        up = start_up(env, first_out)
        try:
            assert wait_until(lambda: "Open the desk" in first_out.read_text(), timeout=180), (
                first_out.read_text()
            )
            with sessions() as session:
                ids = list(session.scalars(select(Thread.id).order_by(Thread.id)))
            for thread_id in ids:
                with sessions() as session:
                    reply = send_reply(
                        session,
                        actor("anna"),
                        thread_id,
                        "Разбираемся: https://acme.example/help",
                        snapshot(session, thread_id),
                    )
                    assert dispatch(session, reply, lambda r: publish_reply(bootstrap, r))
            assert wait_until(lambda: any(c.startswith("POST") for c in tw.calls), timeout=120), (
                first_out.read_text()
            )
            assert tw.posted == [], "nothing went out during the limit"
            tansu = [pid for pid, line in _descendants(up.pid).items() if "tansu" in line.lower()]
            assert tansu, _descendants(up.pid)
            for pid in tansu:
                os.kill(pid, signal.SIGKILL)  # the embedded broker dies with everything it held
            assert up.wait(60) != 0, "up stops everything when its broker dies"
        finally:
            if up.poll() is None:
                up.kill()
                up.wait()
        assert _statuses(database_url).count("sent") == 0

        with running_up(env, tmp_path / "up-2.out"):
            assert wait_until(lambda: _statuses(database_url).count("sent") == REPLIES, timeout=240), (
                f"{_statuses(database_url)}\n{(tmp_path / 'up-2.out').read_text()}"
            )
            time.sleep(8)  # redeliveries and any second copy on the topic have had their chance
        posted_to = [t["referenced_tweets"][0]["id"] for t in tw.posted]
        assert len(posted_to) == REPLIES and set(posted_to) == {t["id"] for t in customer}, "each once"
    engine.dispose()
