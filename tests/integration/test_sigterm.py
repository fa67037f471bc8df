"""Every long-running command as compose, systemd and `up` stop it: SIGTERM, then at most 15 s (the
grace period before SIGKILL) to exit with status 0, with what the command held committed.

Each test starts the real command (`python -m mentiondesk.cli <command>`), lets it do real work,
signals it and checks what a restart relies on: the worker's stored mentions and committed offsets,
the collector's saved cursors, the publisher's committed offset, the desk's and `up`'s ports and
children. (`mentiondesk broker`: tests/integration/test_broker_command.py.)"""

from __future__ import annotations

import collections
import itertools
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

import pytest
from kafka import KafkaConsumer, TopicPartition
from sqlalchemy import text

from core.bus.inspect import log_ends
from core.bus.producer import MentionProducer, ensure_topics
from core.db.engine import make_engine, make_session_factory, migrate
from core.db.repository_ingest import FINAL_REPLY_STATUSES, load_cursors, queue_reply
from ingest.replay import read_mentions as read_mention_file
from mentiondesk.broker import EmbeddedBroker, free_port, port_open
from mentiondesk.runtime import DEMO_FILE, wait_http_ok
from schemas import Mention, Reply
from schemas.topics import REPLIES_OUTBOUND
from tests.fakes.review_site_server import OTZOVIK_LIST
from tests.fakes.vk_server import FakeVk
from tests.fakes.vk_server import generate as generate_vk
from tests.integration.collect_support import BRANDS, collect_env, read_mentions, start_cli, write_config
from tests.integration.review_support import review_sites, write_review_config
from tests.support import PROJECT_ROOT, WorkerStarter, count_rows, wait_until, worker_env

pytestmark = pytest.mark.pipeline

GRACE_S = 15.0
"""What compose (`stop_grace_period`), systemd (`TimeoutStopSec`) and `up` give before SIGKILL."""


def sigterm(process: subprocess.Popen[bytes], log: Path) -> float:
    """SIGTERM `process`; the seconds it took to exit. Fails (and kills it) past `GRACE_S`, and
    on a non-zero exit status."""
    process.send_signal(signal.SIGTERM)
    signalled = time.monotonic()
    try:
        code = process.wait(GRACE_S)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        pytest.fail(f"still running {GRACE_S:g}s after SIGTERM:\n{log.read_text()[-4000:]}")
    elapsed = time.monotonic() - signalled
    assert code == 0, f"exit status {code} after SIGTERM:\n{log.read_text()[-4000:]}"
    print(f"{log.stem}: exited {elapsed:.2f}s after SIGTERM")
    return elapsed


def _mentions(n: int) -> list[Mention]:
    """`n` real-text mentions: the demo file's, repeated under new ids and threads."""
    demo = list(read_mention_file(DEMO_FILE))
    rounds = ((r, m) for r in itertools.count() for m in demo)
    return [_renamed(m, f"-r{r}") for r, m in itertools.islice(rounds, n)]


def _renamed(mention: Mention, suffix: str) -> Mention:
    parent = mention.parent_external_id
    return mention.model_copy(
        update={
            "external_id": mention.external_id + suffix,
            "thread_key": mention.thread_key + suffix,
            "parent_external_id": parent + suffix if parent else None,
        }
    )


def _stored_keys(database_url: str) -> list[tuple[str, str]]:
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            return [(r[0], r[1]) for r in conn.execute(text("SELECT source, external_id FROM mentions"))]
    finally:
        engine.dispose()


def test_worker_stops_within_the_grace_period_and_loses_no_mention(
    broker: EmbeddedBroker, start_worker: WorkerStarter, database_url: str, tmp_path: Path
) -> None:
    mentions = _mentions(1200)
    expected = {(m.source, m.external_id) for m in mentions}
    ensure_topics(broker.bootstrap, partitions=4)
    with MentionProducer(broker.bootstrap) as producer:
        producer.send_all(mentions)
    env = worker_env(broker.bootstrap, database_url)

    first = start_worker(env, "worker-first")
    assert wait_until(lambda: count_rows(database_url) >= 50, timeout=300), "the worker stored nothing"
    sigterm(first, tmp_path / "worker-first-0.log")
    stored_at_exit = count_rows(database_url)
    assert stored_at_exit < len(expected), "the signal came too late: nothing was left in flight"

    start_worker(env, "worker-second")  # the same consumer group resumes from the committed offsets
    second_log = tmp_path / "worker-second-1.log"
    # the 30 s without progress below count from the second worker's start of work, not its model load
    assert wait_until(
        lambda: second_log.exists() and "[^Worker]: Ready" in second_log.read_text(errors="replace"),
        timeout=300,
    ), "the second worker never became ready"
    last = {"count": -1, "since": time.monotonic()}

    def done() -> bool:  # everything stored, or nothing more for 30 s (then what is missing is lost)
        count = count_rows(database_url)
        if count != last["count"]:
            last.update(count=count, since=time.monotonic())
        return count >= len(expected) or time.monotonic() - last["since"] > 30

    assert wait_until(done, timeout=420, interval=2), f"{count_rows(database_url)} stored after the restart"
    wait_until(lambda: False, timeout=3)  # let a re-delivered batch land, if any
    keys = _stored_keys(database_url)
    assert len(keys) == len(set(keys)) == len(expected), "a mention stored twice or lost"
    assert set(keys) == expected
    print(f"worker: {stored_at_exit} of {len(expected)} stored when the first worker exited")


def _is_comment(external_id: str) -> bool:
    return external_id.count("_") == 2  # owner_post_comment; posts are owner_post


def test_collect_stops_mid_pass_and_saves_the_cursors_of_what_it_sent(
    broker: EmbeddedBroker, database_url: str, tmp_path: Path
) -> None:
    data = generate_vk(BRANDS, per_brand=400, wall_posts=60)
    expected = data.expected_ids()
    migrate(database_url)
    with FakeVk(data) as fake:
        env = {
            **collect_env(
                broker.bootstrap,
                database_url,
                write_config(tmp_path / "brands.toml"),
                MD_VK_TOKEN="vk-test-token",
                MD_VK_API_URL=fake.api_url,
            ),
            "MD_VK_RPS_DELAY": "0.1",  # a pass of a few hundred calls outlasts the grace period
        }
        log = tmp_path / "collect-first.log"
        first = start_cli(env, log, "collect")
        assert wait_until(lambda: _comment_cursors(database_url) >= 2, timeout=120), log.read_text()
        sigterm(first, log)
        calls_at_exit = len(fake.calls)
        sent_first = collections.Counter(m.external_id for m in read_mentions(broker.bootstrap))

        second = start_cli(env, tmp_path / "collect-second.log", "collect", "--once")
        assert second.wait(300) == 0, (tmp_path / "collect-second.log").read_text()
        assert len(fake.calls) > calls_at_exit

    sent = collections.Counter(m.external_id for m in read_mentions(broker.bootstrap))
    assert set(sent) == expected, "the second run delivers everything the first one left"
    assert set(sent) - set(sent_first), "the signal came too late: the first run had finished its pass"
    # Comments come in one page per thread, and a thread is re-read only when its saved comment
    # count changed: a comment sent twice is a page sent without its cursor saved.
    doubled = sorted(i for i, n in sent.items() if n > 1 and _is_comment(i))
    assert not doubled, f"{len(doubled)} comments sent again by the second run, e.g. {doubled[:5]}"
    print(f"collect: {len(sent_first)} of {len(expected)} sent before SIGTERM, {calls_at_exit} calls")


def test_collect_stops_during_a_review_sites_retry_after_wait(
    broker: EmbeddedBroker, sqlite_url: str, tmp_path: Path
) -> None:
    with review_sites() as sites:
        sites.otzovik.fail(OTZOVIK_LIST, 503, retry_after="100")  # under 120 s: slept out, not skipped
        env = worker_env(
            broker.bootstrap, sqlite_url, MD_CONFIG=str(write_review_config(tmp_path / "b.toml", sites))
        )
        log = tmp_path / "collect-waiting.log"
        first = start_cli(env, log, "collect")
        assert wait_until(
            lambda: any(h.status == 503 for h in sites.otzovik.hits(OTZOVIK_LIST)), timeout=60
        ), log.read_text()
        sigterm(first, log)
        second = start_cli(env, tmp_path / "collect-again.log", "collect", "--once")
        assert second.wait(300) == 0, (tmp_path / "collect-again.log").read_text()
    sources = collections.Counter(m.source for m in read_mentions(broker.bootstrap))
    assert sources["review:otzovik.com"] > 0, f"the interrupted site was not read again: {sources}"


def _comment_cursors(database_url: str) -> int:
    engine = make_engine(database_url)
    try:
        with make_session_factory(engine)() as session:
            return sum(key.startswith("comments:") for key in load_cursors(session, "vk"))
    except Exception:  # the first poll has not created its rows yet
        return 0
    finally:
        engine.dispose()


def _committed_lag(bootstrap: str, group: str, topic: str) -> int:
    """Messages of `topic` the consumer group `group` has not committed."""
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False)
    try:
        partitions = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())]
        end = log_ends(consumer, partitions, timeout_s=15.0)  # not end_offsets: see core.bus.inspect
        return sum(end[tp] - (consumer.committed(tp) or 0) for tp in partitions)
    finally:
        consumer.close()


def _reply_status(database_url: str) -> str | None:
    return _scalar(database_url, "SELECT status FROM replies")


def _scalar(database_url: str, sql: str) -> str | None:
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            value = conn.execute(text(sql)).scalar()
            return None if value is None else str(value)
    finally:
        engine.dispose()


def test_publisher_stops_within_the_grace_period_with_its_offset_committed(
    broker: EmbeddedBroker, sqlite_url: str, tmp_path: Path
) -> None:
    ensure_topics(broker.bootstrap, 2)
    migrate(sqlite_url)
    reply = Reply(
        reply_id=uuid.uuid4(),
        thread_key="vk:wall-1001_101",
        in_reply_to="-1001_101_10000001",  # the first comment under the first post of community 1001
        source="vk",
        text="Спасибо, разбираемся",
        agent="anna",
    )
    engine = make_engine(sqlite_url)
    try:
        with make_session_factory(engine)() as session:
            queue_reply(session, reply)  # as the desk records it before it goes out
            session.commit()
    finally:
        engine.dispose()
    with MentionProducer(broker.bootstrap, topic=REPLIES_OUTBOUND) as out:
        out.send_raw(reply.thread_key.encode(), reply.to_bytes())
    group = f"pub-{uuid.uuid4().hex[:6]}"
    with FakeVk(generate_vk({"acme": 1001}, per_brand=60, wall_posts=5), tokens=["vk-post"]) as vk:
        env = worker_env(
            broker.bootstrap,
            sqlite_url,
            MD_VK_TOKEN="vk-post",
            MD_VK_API_URL=vk.api_url,
            MD_VK_RPS_DELAY="0",
            MD_PUBLISHER_GROUP=group,
        )
        log = tmp_path / "publisher.log"
        publisher = start_cli(env, log, "publisher")
        try:
            # sent, or failed for a reason of the desk's (e.g. no such agent): either way handled
            assert wait_until(lambda: _reply_status(sqlite_url) in FINAL_REPLY_STATUSES, timeout=90), (
                log.read_text()
            )
            sigterm(publisher, log)
        finally:
            if publisher.poll() is None:
                publisher.kill()
                publisher.wait()
    assert _committed_lag(broker.bootstrap, group, REPLIES_OUTBOUND) == 0, "a restart would post it again"


def _desk_env(database_url: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MD_") or k == "MD_MODEL_CACHE_DIR"}
    env.update(MD_DATABASE_URL=database_url, PYTHONUNBUFFERED="1", **extra)
    return env


def _start(env: dict[str, str], log: Path, *args: str) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "mentiondesk.cli", *args],
            env=env,
            cwd=PROJECT_ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def test_desk_stops_within_the_grace_period_and_frees_its_port(sqlite_url: str, tmp_path: Path) -> None:
    port = free_port()
    log = tmp_path / "desk.log"
    desk = _start(_desk_env(sqlite_url, MD_DESK_PORT=str(port)), log, "desk")
    try:
        url = f"http://127.0.0.1:{port}"
        assert wait_http_ok(f"{url}/_stcore/health", timeout=120), log.read_text()
        with urllib.request.urlopen(url, timeout=10) as page:
            assert page.status == 200 and b"<html" in page.read().lower()
        sigterm(desk, log)
    finally:
        if desk.poll() is None:
            desk.kill()
            desk.wait()
    assert wait_until(lambda: not port_open("127.0.0.1", port), timeout=5), "the desk's port is still open"


def _running(pid: int) -> bool:
    """Whether process `pid` exists and is not a zombie (reaped or not, a zombie holds nothing)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def test_up_stops_every_child_within_the_grace_period(sqlite_url: str, tmp_path: Path) -> None:
    broker_port, desk_port = free_port(), free_port()
    env = _desk_env(
        sqlite_url,
        MD_BROKER_PORT=str(broker_port),
        MD_DESK_PORT=str(desk_port),
        MD_DEMO_RATE="20",
        MD_WORKER_ID=f"md-up-sigterm-{uuid.uuid4().hex[:8]}",
        MD_LOG_DIR=str(tmp_path / "logs"),
    )
    log = tmp_path / "up.log"
    up = _start(env, log, "up")
    try:
        assert wait_until(lambda: "Open the desk" in log.read_text(), timeout=180), log.read_text()
        children = {
            name: int(pid)
            for name, pid in re.findall(r"^  (\w+)\s+started\s+pid (\d+)", log.read_text(), re.M)
        }
        assert {"worker", "desk", "publisher", "demo"} <= set(children), log.read_text()
        assert wait_until(lambda: count_rows(sqlite_url) >= 5, timeout=240), (
            "the worker stored no demo mention"
        )
        assert all(_running(pid) for pid in children.values()), log.read_text()
        sigterm(up, log)
    finally:
        if up.poll() is None:
            up.kill()
            up.wait()
    left = {name: pid for name, pid in children.items() if _running(pid)}
    for pid in left.values():  # do not leak them into the next test
        os.kill(pid, signal.SIGKILL)
    assert not left, f"children still running after `up` exited: {left}"
    assert not port_open("127.0.0.1", broker_port) and not port_open("127.0.0.1", desk_port)
