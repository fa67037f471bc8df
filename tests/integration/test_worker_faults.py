"""Faults in the middle of a stream, through the real embedded broker and real `mentiondesk worker`
processes: one of two workers of a group killed with -9, and the database unreachable for 30 s
(PostgreSQL behind a proxy that drops every connection; SQLite held under an exclusive lock).
Nothing is lost and nothing is doubled once the stream has recovered, and the worker that stayed
up never exits."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path

import pytest
from sqlalchemy import make_url

from core.bus.producer import ensure_topics
from mentiondesk.broker import EmbeddedBroker
from tests.fuzz_support import (
    PacedProducer,
    TcpProxy,
    mention_counts,
    sqlite_exclusive_lock,
    stored_rows,
    valid_payloads,
)
from tests.support import WorkerStarter, count_rows, wait_until, worker_env

pytestmark = pytest.mark.pipeline

OUTAGE_S = 30.0


def _owns_raw_partitions(log: Path) -> bool:
    """Whether the worker's latest assignment (Faust's table in its log) includes mentions.raw.v1."""
    text = log.read_text(errors="replace") if log.exists() else ""
    blocks = text.split("Setting newly assigned partitions")
    return (
        len(blocks) > 1 and re.search(r"mentions\.raw\.v1\s*\|\s*\{", blocks[-1].split("\n[")[0]) is not None
    )


def _assert_each_stored_once(database_url: str, prefix: str, count: int) -> None:
    rows, distinct, counted = mention_counts(database_url)
    assert (rows, distinct, counted) == (count, count, count), "rows, distinct ids, threads' counts"
    assert set(stored_rows(database_url)) == {f"{prefix}-{i:05d}" for i in range(count)}


def _settle(database_url: str, count: int, timeout: float) -> None:
    """Wait for `count` rows, then a little longer: a late duplicate would show up meanwhile."""
    assert wait_until(lambda: count_rows(database_url) >= count, timeout=timeout), count_rows(database_url)
    time.sleep(5)


def test_a_worker_killed_mid_stream_loses_and_doubles_nothing(
    broker: EmbeddedBroker, start_worker: WorkerStarter, database_url: str, tmp_path: Path
) -> None:
    count = 2000
    ensure_topics(broker.bootstrap, partitions=4)
    env = worker_env(broker.bootstrap, database_url)  # one MD_WORKER_ID: one consumer group
    survivor = start_worker(env, name="survivor")
    victim = start_worker(env, name="victim")
    logs = (tmp_path / "survivor-0.log", tmp_path / "victim-1.log")
    assert wait_until(lambda: all(_owns_raw_partitions(log) for log in logs), timeout=240), "no split"

    producer = PacedProducer(broker.bootstrap, valid_payloads("kill", count), seconds=40)
    producer.start()
    assert wait_until(lambda: count_rows(database_url) >= count // 4, timeout=240)
    victim.kill()  # SIGKILL: no commit, no leave-group; the survivor takes over after the session
    victim.wait()
    producer.join(120)
    assert producer.error is None, producer.error

    _settle(database_url, count, timeout=300)
    _assert_each_stored_once(database_url, "kill", count)
    assert survivor.poll() is None, "the surviving worker exited"
    assert victim.returncode == -9


@contextmanager
def _database_down(database_url: str, proxy: TcpProxy | None) -> Iterator[None]:
    """The database unreachable for the block: PostgreSQL's connections dropped and refused at the
    proxy, SQLite under another connection's exclusive lock."""
    if proxy is not None:
        proxy.cut()
        try:
            yield
        finally:
            proxy.restore()
        return
    with sqlite_exclusive_lock(database_url):
        yield


def test_the_database_gone_for_30_seconds_mid_stream_loses_and_doubles_nothing(
    broker: EmbeddedBroker, start_worker: WorkerStarter, database_url: str, tmp_path: Path
) -> None:
    count = 1500
    ensure_topics(broker.bootstrap, partitions=4)
    url = make_url(database_url)
    with (
        TcpProxy(url.host or "127.0.0.1", url.port or 5432)
        if url.get_backend_name() == "postgresql"
        else nullcontext()
    ) as proxy:
        worker_url = proxy.url_for(database_url) if proxy is not None else database_url
        worker = start_worker(worker_env(broker.bootstrap, worker_url))
        producer = PacedProducer(broker.bootstrap, valid_payloads("outage", count), seconds=60)
        producer.start()
        assert wait_until(lambda: count_rows(database_url) >= 200, timeout=240)

        with _database_down(database_url, proxy):
            time.sleep(1)  # a commit already at the server when the cut came lands meanwhile
            before = count_rows(database_url)
            time.sleep(OUTAGE_S - 1)
            during = count_rows(database_url)
        assert worker.poll() is None, "the worker exited during the outage"
        producer.join(120)
        assert producer.error is None, producer.error

        _settle(database_url, count, timeout=300)
    _assert_each_stored_once(database_url, "outage", count)
    assert worker.poll() is None, "the worker exited after the outage"
    assert during == before, (before, during)  # the outage reached the worker: nothing stored
    if proxy is not None:
        # PostgreSQL: the writes failed and were retried. (SQLite's writes wait out the lock within
        # the busy timeout of 30 s, then go on.)
        log = (tmp_path / "worker-0.log").read_text(errors="replace")
        assert "failed" in log and "retrying" in log, log[-3000:]
