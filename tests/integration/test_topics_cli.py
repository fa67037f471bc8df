"""`mentiondesk topics` and `mentiondesk topics tail` through the real command and a real embedded broker.

The mentions are sent in one go, so the broker gets several messages per record batch: the case in
which the embedded broker's ListOffsets answer is wrong (see core/bus/inspect.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime
from typing import Any

import pytest
from kafka.partitioner.default import DefaultPartitioner

from core.bus.producer import MentionProducer, ensure_topics
from mentiondesk.broker import EmbeddedBroker, free_port
from schemas import Author, Mention
from schemas.topics import ALL_TOPICS, MENTIONS_RAW
from tests.support import PROJECT_ROOT, run_cli

PARTITIONS = 3
THREADS = ("vk:100", "vk:200", "twitter:300", "review:otzovik:400", "vk:500")
PER_THREAD = 3


def _env(broker: EmbeddedBroker) -> dict[str, str]:
    return {"MD_KAFKA_BOOTSTRAP": broker.bootstrap}


def _partition_of(thread_key: str) -> int:
    """Where kafka-python's default partitioner (MentionProducer's) puts a key: murmur2 % partitions."""
    every = list(range(PARTITIONS))
    return int(DefaultPartitioner()(thread_key.encode("utf-8"), every, every))


def _mentions() -> list[Mention]:
    now = datetime.now(UTC)
    return [
        Mention(
            source="vk",
            external_id=f"{thread}-{i}",
            thread_key=thread,
            author=Author(id=f"a{i}", name="Пётр"),
            text=f"сообщение {i} в {thread}",
            created_at=now,
        )
        for thread in THREADS
        for i in range(PER_THREAD)
    ]


@pytest.fixture
def mentions(broker: EmbeddedBroker) -> list[Mention]:
    """Every topic created with PARTITIONS partitions; the mentions in mentions.raw.v1."""
    ensure_topics(broker.bootstrap, PARTITIONS)
    sent = _mentions()
    with MentionProducer(broker.bootstrap) as producer:
        assert producer.send_all(sent) == len(sent)
    return sent


def _expected_counts(sent: list[Mention]) -> dict[int, int]:
    counts = Counter(_partition_of(m.thread_key) for m in sent)
    return {p: counts.get(p, 0) for p in range(PARTITIONS)}


def _table(stdout: str) -> dict[str, dict[int, tuple[int, int, int]]]:
    """The rows of `topics`: topic -> partition -> (earliest, latest, messages)."""
    rows: dict[str, dict[int, tuple[int, int, int]]] = {}
    lines = stdout.splitlines()
    assert lines[0].split() == ["TOPIC", "PARTITION", "EARLIEST", "LATEST", "MESSAGES"]
    for line in lines[1:-1]:
        name, partition, earliest, latest, messages = line.split()
        rows.setdefault(name, {})[int(partition)] = (int(earliest), int(latest), int(messages))
    return rows


def _lines(stdout: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stdout.splitlines()]


def _no_traceback(result: subprocess.CompletedProcess[str]) -> None:
    assert "Traceback" not in result.stderr + result.stdout


def test_topics_lists_every_topic_with_its_partitions_and_offsets(
    broker: EmbeddedBroker, mentions: list[Mention]
) -> None:
    expected = _expected_counts(mentions)
    assert sum(1 for n in expected.values() if n >= 2) >= 1, "a partition should hold a batch of several"

    result = run_cli("topics", env=_env(broker), timeout=120)
    assert result.returncode == 0, result.stderr
    table = _table(result.stdout)
    assert set(table) == set(ALL_TOPICS)
    assert table[MENTIONS_RAW] == {p: (0, n, n) for p, n in expected.items()}
    for name in set(ALL_TOPICS) - {MENTIONS_RAW}:
        assert table[name] == {p: (0, 0, 0) for p in range(PARTITIONS)}
    total = len(ALL_TOPICS) * PARTITIONS
    assert result.stdout.splitlines()[-1] == (
        f"{len(ALL_TOPICS)} topics, {total} partitions, {len(mentions)} messages on {broker.bootstrap}"
    )
    # `topics list` is the same listing
    listed = run_cli("topics", "list", env=_env(broker), timeout=120)
    assert listed.returncode == 0, listed.stderr
    assert _table(listed.stdout) == table


def test_tail_from_the_beginning_prints_every_message_once_decoded(
    broker: EmbeddedBroker, mentions: list[Mention]
) -> None:
    result = run_cli("topics", "tail", MENTIONS_RAW, "--from-beginning", env=_env(broker), timeout=120)
    assert result.returncode == 0, result.stderr
    lines = _lines(result.stdout)
    assert len(lines) == len(mentions)
    by_id = {m.external_id: m for m in mentions}
    received = [Mention.model_validate(line["value"]) for line in lines]
    assert sorted(m.external_id for m in received) == sorted(by_id)  # each once
    for line, mention in zip(lines, received, strict=True):
        assert set(line) == {"topic", "partition", "offset", "timestamp", "key", "value"}
        assert line["topic"] == MENTIONS_RAW
        assert mention == by_id[mention.external_id]
        assert line["key"] == mention.thread_key
        assert line["partition"] == _partition_of(mention.thread_key)
        assert datetime.fromisoformat(line["timestamp"]).tzinfo is not None
    for partition, count in _expected_counts(mentions).items():
        in_partition = [line for line in lines if line["partition"] == partition]
        assert [line["offset"] for line in in_partition] == list(range(count))
        # a thread's messages in the order they were sent
        for thread in {line["key"] for line in in_partition}:
            ids = [line["value"]["external_id"] for line in in_partition if line["key"] == thread]
            assert ids == [f"{thread}-{i}" for i in range(PER_THREAD)]
    # readable: Cyrillic as it is, not \\u escapes
    assert "Пётр" in result.stdout
    # without an offset option the start is the beginning too
    default = run_cli("topics", "tail", MENTIONS_RAW, env=_env(broker), timeout=120)
    assert default.returncode == 0, default.stderr
    assert sorted(default.stdout.splitlines()) == sorted(result.stdout.splitlines())


def test_tail_from_an_offset_of_one_partition_starts_there(
    broker: EmbeddedBroker, mentions: list[Mention]
) -> None:
    counts = _expected_counts(mentions)
    partition = max(counts, key=lambda p: counts[p])
    assert counts[partition] >= 3
    env = _env(broker)

    whole = run_cli("topics", "tail", MENTIONS_RAW, "--partition", str(partition), env=env, timeout=120)
    part = run_cli(
        "topics", "tail", MENTIONS_RAW, "-p", str(partition), "--from-offset", "2", env=env, timeout=120
    )
    assert whole.returncode == 0, whole.stderr
    assert part.returncode == 0, part.stderr
    whole_lines, part_lines = _lines(whole.stdout), _lines(part.stdout)
    assert [line["offset"] for line in whole_lines] == list(range(counts[partition]))
    assert [line["offset"] for line in part_lines] == list(range(2, counts[partition]))
    assert {line["partition"] for line in part_lines} == {partition}
    assert part_lines == whole_lines[2:]

    limited = run_cli(
        "topics", "tail", MENTIONS_RAW, "-p", str(partition), "--from-offset", "1", "--limit", "1", env=env
    )
    assert limited.returncode == 0, limited.stderr
    assert _lines(limited.stdout) == whole_lines[1:2]

    past_end = run_cli("topics", "tail", MENTIONS_RAW, "-p", str(partition), "--from-offset", "999", env=env)
    assert past_end.returncode == 0, past_end.stderr
    assert past_end.stdout == ""

    both = run_cli("topics", "tail", MENTIONS_RAW, "--from-offset", "1", "--from-beginning", env=env)
    assert both.returncode == 2
    assert "not both" in both.stderr


def test_text_and_invalid_utf8_are_shown_without_a_crash(broker: EmbeddedBroker) -> None:
    topic = "inspect.odd.v1"
    ensure_topics(broker.bootstrap, 1, [topic])
    payloads = [
        b"plain words, not JSON",
        b"\xff\xfebroken \xd0\xbf\xd1",  # invalid UTF-8 around a valid Cyrillic letter
        b'{"text": "\\ud800 lone surrogate"}',  # valid JSON whose string is not encodable UTF-8
        '{"text": "ужасный сервис"}'.encode(),
        b"",
    ]
    with MentionProducer(broker.bootstrap, topic=topic) as producer:
        for i, payload in enumerate(payloads):
            producer.send_raw(b"\xfe-key" if i == 1 else None, payload)

    result = run_cli("topics", "tail", topic, env=_env(broker), timeout=120)
    assert result.returncode == 0, result.stderr
    _no_traceback(result)
    lines = _lines(result.stdout)
    assert [line["offset"] for line in lines] == list(range(len(payloads)))
    assert lines[0]["text"] == "plain words, not JSON"
    assert "value" not in lines[0]
    assert lines[1]["text"] == "\\xff\\xfebroken п\\xd1"
    assert lines[1]["key"] == "\\xfe-key"
    assert lines[2]["value"] == {"text": "\ud800 lone surrogate"}
    assert lines[3]["value"] == {"text": "ужасный сервис"}
    assert "ужасный сервис" in result.stdout
    assert lines[4]["text"] == ""


def test_follow_waits_for_new_messages(broker: EmbeddedBroker) -> None:
    topic = "inspect.follow.v1"
    ensure_topics(broker.bootstrap, 1, [topic])
    with MentionProducer(broker.bootstrap, topic=topic) as producer:
        producer.send_raw(b"old", b'{"n": 0}')
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "mentiondesk.cli",
            "topics",
            "tail",
            topic,
            "--from-offset",
            "1",
            "-f",
            "-n",
            "2",
        ],
        cwd=PROJECT_ROOT,
        env={**os.environ, **_env(broker)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        time.sleep(3)
        assert process.poll() is None, process.communicate()
        with MentionProducer(broker.bootstrap, topic=topic) as producer:
            producer.send_raw(b"new", b'{"n": 1}')
            producer.flush()
            producer.send_raw(b"new", b'{"n": 2}')
        out, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 0, err
    assert [(line["offset"], line["value"]) for line in _lines(out)] == [(1, {"n": 1}), (2, {"n": 2})]


def test_no_broker_is_a_clear_error_without_a_traceback() -> None:
    address = f"127.0.0.1:{free_port()}"
    for args in (["topics"], ["topics", "list"], ["topics", "tail", MENTIONS_RAW]):
        result = run_cli(*args, env={"MD_KAFKA_BOOTSTRAP": address}, timeout=120)
        assert result.returncode == 1, (args, result.stdout, result.stderr)
        assert f"error: no Kafka broker at {address}" in result.stderr
        assert result.stdout == ""
        _no_traceback(result)


def test_an_unknown_topic_or_partition_is_a_clear_error(broker: EmbeddedBroker) -> None:
    ensure_topics(broker.bootstrap, PARTITIONS)
    result = run_cli("topics", "tail", "mentions.rwa.v1", env=_env(broker), timeout=120)
    assert result.returncode == 1
    assert f"error: no topic 'mentions.rwa.v1' on the broker at {broker.bootstrap}" in result.stderr
    assert MENTIONS_RAW in result.stderr  # the topics there are
    _no_traceback(result)

    result = run_cli("topics", "tail", MENTIONS_RAW, "--partition", "7", env=_env(broker), timeout=120)
    assert result.returncode == 1
    assert "has no partition 7" in result.stderr
    _no_traceback(result)

    # looking did not create it
    listed = run_cli("topics", env=_env(broker), timeout=120)
    assert "mentions.rwa.v1" not in listed.stdout
