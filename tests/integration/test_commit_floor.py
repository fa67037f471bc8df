"""A take still in the model is never committed over, whatever finished after it. The worker runs two
score agents; a trickle of mentions reaches them alternately, so their takes hold interleaved offsets
of one partition, and the first take is acknowledged while the second is still in the model. Here the
second is held there for good (a test model that blocks it; the rest is the real worker), the worker is
killed with -9, and an ordinary worker of the same group then stores every mention exactly once."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
from kafka import KafkaConsumer, TopicPartition

from core.bus.producer import ensure_topics
from core.db.engine import migrate
from mentiondesk.broker import EmbeddedBroker
from schemas.topics import MENTIONS_RAW
from tests.fuzz_support import PacedProducer, mention_counts, stored_rows, valid_payloads
from tests.support import PROJECT_ROOT, WorkerStarter, count_rows, wait_until, worker_env

pytestmark = pytest.mark.pipeline

COUNT = 60


def _numbered_payloads() -> list[bytes]:
    """COUNT valid mentions whose texts start with their place in the stream (= their offset)."""
    payloads = []
    for i, value in enumerate(valid_payloads("floor", COUNT)):
        record = json.loads(value)
        record["text"] = f"[{i}] {record['text']}"
        payloads.append(json.dumps(record).encode())
    return payloads


def _committed(bootstrap: str, group: str) -> int:
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False)
    try:
        return consumer.committed(TopicPartition(MENTIONS_RAW, 0)) or 0
    finally:
        consumer.close()


def _stored_offsets(database_url: str) -> set[int]:
    return {int(external_id.split("-")[1]) for external_id in stored_rows(database_url)}


def test_a_take_held_in_the_model_is_not_committed_over_and_survives_a_kill(
    broker: EmbeddedBroker, start_worker: WorkerStarter, sqlite_url: str, tmp_path: Path
) -> None:
    ensure_topics(broker.bootstrap, partitions=1)  # one partition: both agents pull its offsets
    env = worker_env(broker.bootstrap, sqlite_url, MD_TOPIC_PARTITIONS="1", MD_BATCH_WINDOW_S="1.0")
    held_file, held_log = tmp_path / "held-take.txt", tmp_path / "held-worker.log"
    migrate(sqlite_url)
    with held_log.open("ab") as log:
        held = subprocess.Popen(
            [sys.executable, "-m", "tests.held_take_worker"],
            env={**env, "HELD_TAKE_FILE": str(held_file)},
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=PROJECT_ROOT,
        )
    try:
        ready = lambda: "[^Worker]: Ready" in held_log.read_text(errors="replace")  # noqa: E731
        assert wait_until(ready, timeout=300), held_log.read_text(errors="replace")[-3000:]
        producer = PacedProducer(broker.bootstrap, _numbered_payloads(), seconds=4)
        producer.run()  # a trickle: the two agents, both waiting, take turns at each mention
        assert producer.error is None, producer.error
        assert wait_until(held_file.exists, timeout=60), "no second take reached the model"
        in_model = {int(line[1 : line.index("]")]) for line in held_file.read_text("utf-8").splitlines()}
        assert wait_until(lambda: count_rows(sqlite_url) > 0, timeout=60), "the first take was not stored"
        time.sleep(3.0)  # three commit intervals
        stored = _stored_offsets(sqlite_url)
        assert min(in_model) < max(stored), (
            f"not interleaved: held {sorted(in_model)}, stored {sorted(stored)}"
        )
        assert held.poll() is None, held_log.read_text(errors="replace")[-3000:]
        committed = _committed(broker.bootstrap, env["MD_WORKER_ID"])
        assert committed <= min(in_model), f"committed {committed} over {sorted(in_model)} in the model"
    finally:
        held.kill()
        held.wait()

    start_worker(env, "after-the-kill")  # the same group resumes from what was committed
    assert wait_until(lambda: count_rows(sqlite_url) >= COUNT, timeout=300), count_rows(sqlite_url)
    time.sleep(5)  # a late duplicate would show up meanwhile
    assert mention_counts(sqlite_url) == (COUNT, COUNT, COUNT)
    assert _stored_offsets(sqlite_url) == set(range(COUNT))
