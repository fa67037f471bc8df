"""Real mentions through the real broker and Faust worker into the database."""

from __future__ import annotations

import itertools
import json
import re
import signal
from datetime import UTC, datetime
from pathlib import Path

import pytest
from kafka import KafkaProducer
from sqlalchemy import text

from core.bus.producer import MentionProducer, ensure_topics
from core.db.engine import make_engine
from core.settings import Settings
from ingest.replay import read_mentions
from mentiondesk.broker import EmbeddedBroker
from schemas import Author, DeadLetter, Mention, ScoredMention
from schemas.topics import MENTIONS_DLQ, MENTIONS_RAW, MENTIONS_SCORED
from sentiment.model import resolve_inference
from sentiment.openvino_export import served_precision
from tests.support import (
    DATA_DIR,
    WorkerStarter,
    count_rows,
    needs_data,
    read_topic,
    wait_until,
    worker_env,
)

pytestmark = pytest.mark.pipeline

RUSENTITWEET_TEST = DATA_DIR / "rusentitweet" / "rusentitweet_test.csv"


def _real_mentions(n: int) -> list[Mention]:
    mentions = list(itertools.islice(read_mentions(RUSENTITWEET_TEST), n))
    assert len(mentions) == n, f"{RUSENTITWEET_TEST} has fewer than {n} readable rows"
    return mentions


def _rows(database_url: str, query: str) -> list[tuple[str, str]]:
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            return [(str(r[0]), str(r[1])) for r in conn.execute(text(query)).all()]
    finally:
        engine.dispose()


def _scored_keys(database_url: str) -> list[tuple[str, str]]:
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                text(
                    "SELECT source, external_id FROM mentions"
                    " WHERE label IS NOT NULL AND negativity IS NOT NULL"
                )
            ).all()
    finally:
        engine.dispose()
    return [(r[0], r[1]) for r in rows]


@needs_data("rusentitweet/rusentitweet_test.csv")
def test_2000_real_mentions_land_exactly_once_across_a_kill_9(
    broker: EmbeddedBroker, start_worker: WorkerStarter, sqlite_url: str
) -> None:
    mentions = _real_mentions(2000)
    expected = {(m.source, m.external_id) for m in mentions}
    ensure_topics(broker.bootstrap, partitions=4)
    with MentionProducer(broker.bootstrap) as producer:
        producer.send_all(mentions)

    env = worker_env(broker.bootstrap, sqlite_url)
    first = start_worker(env, "first")
    assert wait_until(lambda: count_rows(sqlite_url) >= 300, timeout=300), "worker wrote nothing"
    first.send_signal(signal.SIGKILL)
    first.wait(10)
    landed_before_kill = count_rows(sqlite_url)
    assert landed_before_kill < len(expected), "the kill came too late to test a restart"

    start_worker(env, "second")
    assert wait_until(lambda: count_rows(sqlite_url) >= len(expected), timeout=420), (
        f"only {count_rows(sqlite_url)} of {len(expected)} landed after restart"
    )
    # Let any re-delivered batch arrive, then check nothing was doubled or lost.
    wait_until(lambda: False, timeout=3)
    keys = _scored_keys(sqlite_url)
    assert len(keys) == len(set(keys)) == len(expected)
    assert set(keys) == expected
    assert count_rows(sqlite_url, "SELECT count(*) FROM threads") == len({m.thread_key for m in mentions})


@pytest.mark.parametrize("inference", ["fast", "torch", "auto"])
def test_malformed_messages_go_to_the_dlq_and_the_rest_flow_on(
    broker: EmbeddedBroker, start_worker: WorkerStarter, sqlite_url: str, inference: str, tmp_path: Path
) -> None:
    ensure_topics(broker.bootstrap, partitions=4)
    now = datetime.now(UTC)
    good = [
        Mention(
            source="twitter",
            external_id=f"good-{i}",
            thread_key=f"twitter:good-{i}",
            author=Author(id=f"user{i}"),
            text=text_,
            created_at=now,
        )
        for i, text_ in enumerate(
            ["Курьер опять опоздал на три часа, ужасный сервис", "Thanks, the refund arrived today!"] * 10
        )
    ]
    bad: list[tuple[bytes, str]] = [
        (b"{not json", "invalid mention"),
        (json.dumps({"source": "twitter", "external_id": "x1", "thread_key": "t"}).encode(), "text"),
        (
            good[0].model_copy(update={"source": "myspace", "external_id": "x2"}).to_bytes(),
            "unknown source",
        ),
        (
            json.dumps({**json.loads(good[0].to_bytes()), "created_at": "2026-01-01T10:00:00"}).encode(),
            "timezone",
        ),
    ]
    raw = KafkaProducer(bootstrap_servers=broker.bootstrap, acks="all")
    with MentionProducer(broker.bootstrap) as producer:
        for i, mention in enumerate(good):
            producer.send(mention)
            if i < len(bad):
                raw.send(MENTIONS_RAW, key=b"bad", value=bad[i][0])
        raw.flush()
    raw.close()

    # "auto" is the default: MD_INFERENCE left unset, as a user leaves it
    chosen = {} if inference == "auto" else {"MD_INFERENCE": inference}
    start_worker(worker_env(broker.bootstrap, sqlite_url, **chosen))
    assert wait_until(lambda: count_rows(sqlite_url) >= len(good), timeout=240)
    # The worker scored them on the path it was configured for (MD_INFERENCE), with sound labels; by
    # default the fast path where it serves int8 (a CPU with int8 dot products), else torch.
    log = (tmp_path / "worker-0.log").read_text("utf-8", errors="replace")
    served = resolve_inference(Settings(inference="auto", model=None)) if inference == "auto" else inference
    assert f": {served} inference" in log
    # the fast path's default runtime: the model itself on OpenVINO, in the precision this CPU runs fastest
    fast_runtime = f"openvino {served_precision(Settings(fast_precision='auto'))}"
    assert f": {served} inference ({fast_runtime if served == 'fast' else 'torch'})" in log
    # the model and libraries are frozen out of the garbage collector (no 0.3 s pauses of every thread)
    frozen = re.search(r"^(\d+) startup objects kept out of the garbage collector$", log, re.M)
    assert frozen and int(frozen[1]) > 10_000, log[-2000:]
    labels = dict(_rows(sqlite_url, "SELECT external_id, label FROM mentions"))
    assert labels["good-0"] == "negative" and labels["good-1"] == "positive", labels

    letters = [
        DeadLetter.model_validate_json(r.value) for r in read_topic(broker.bootstrap, MENTIONS_DLQ, len(bad))
    ]

    assert len(letters) == len(bad)
    assert sorted(letter.payload.encode() for letter in letters) == sorted(b for b, _ in bad)
    for letter in letters:
        expected_hint = next(hint for payload, hint in bad if payload == letter.payload.encode())
        assert expected_hint in letter.error, letter.error
        assert letter.topic == MENTIONS_RAW and letter.offset is not None
    assert count_rows(sqlite_url) == len(good)

    # The scores are also on mentions.scored.v1, for consumers outside the worker: each good
    # mention once, with the label the database holds.
    on_topic = [
        ScoredMention.model_validate_json(r.value) for r in read_topic(broker.bootstrap, MENTIONS_SCORED)
    ]
    assert sorted(m.external_id for m in on_topic) == sorted(m.external_id for m in good)
    assert {m.external_id: m.label for m in on_topic} == labels
