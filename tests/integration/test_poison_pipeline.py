"""Poisoned raw messages through the real broker and a real `mentiondesk worker`: what can be kept is
stored sanitised, the rest goes to the DLQ with its reason, and the worker keeps going."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from kafka import KafkaConsumer, KafkaProducer

from core.bus.producer import ensure_topics
from core.db.engine import make_engine
from mentiondesk.broker import EmbeddedBroker
from schemas import Author, DeadLetter, Mention
from schemas.topics import MENTIONS_DLQ, MENTIONS_RAW
from tests.support import WorkerStarter, count_rows, wait_until, worker_env

pytestmark = pytest.mark.pipeline


def _payload(ident: str, /, **update: Any) -> dict[str, Any]:
    mention = Mention(
        source="twitter",
        external_id=ident,
        thread_key=f"twitter:{ident}",
        author=Author(id=f"user-{ident}", name="Anna"),
        text="Курьер опять опоздал на три часа, ужасный сервис",
        created_at=datetime.now(UTC),
    )
    payload = mention.model_dump(mode="json")
    for key, value in update.items():
        if isinstance(value, dict):
            payload[key] = {**payload[key], **value}
        else:
            payload[key] = value
    return payload


def _send(producer: KafkaProducer, payload: dict[str, Any]) -> None:
    producer.send(MENTIONS_RAW, key=payload["thread_key"][:255].encode(), value=json.dumps(payload).encode())


def _rows(database_url: str) -> dict[str, tuple[str, str | None]]:
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            rows = conn.exec_driver_sql(
                "SELECT m.external_id, m.text, a.name FROM mentions m JOIN authors a ON a.id = m.author_id"
            ).all()
    finally:
        engine.dispose()
    return {r[0]: (r[1], r[2]) for r in rows}


def _dead_letters(bootstrap: str, expected: int) -> list[DeadLetter]:
    consumer = KafkaConsumer(
        MENTIONS_DLQ,
        bootstrap_servers=bootstrap,
        group_id=f"dlq-reader-{uuid.uuid4().hex[:6]}",
        auto_offset_reset="earliest",
        consumer_timeout_ms=15_000,
        session_timeout_ms=6_000,
        heartbeat_interval_ms=2_000,
    )
    letters: list[DeadLetter] = []
    for record in consumer:
        letters.append(DeadLetter.model_validate_json(record.value))
        if len(letters) >= expected:
            break
    consumer.close()
    return letters


def test_poisoned_messages_are_sanitised_or_dead_lettered_and_the_worker_goes_on(
    broker: EmbeddedBroker, start_worker: WorkerStarter, database_url: str
) -> None:
    ensure_topics(broker.bootstrap, partitions=2)
    good = [_payload(f"good-{i}") for i in range(6)]
    sanitisable = {
        "nul-text": _payload("nul-text", text="Где\x00 мой\x07 заказ?"),
        "long-name": _payload("long-name", author={"name": "Я" * 300, "handle": "h" * 300}),
    }
    refused = {
        "likes": _payload("big-likes", metrics={"likes": 2**40}),
        "followers": _payload("big-followers", author={"followers": 2**64 + 1}),
        "created_at-9999": _payload("y9999", created_at="9999-12-31T23:59:59Z"),
        "created_at-0001": _payload("y0001", created_at="0001-01-01T00:00:00Z"),
        "external_id": _payload("long-id", external_id="e" * 300),
    }
    raw = KafkaProducer(bootstrap_servers=broker.bootstrap, acks="all")
    poison = [*sanitisable.values(), *refused.values()]
    for i, payload in enumerate(good):
        _send(raw, payload)
        if i < len(poison):
            _send(raw, poison[i])
    for payload in poison[len(good) :]:
        _send(raw, payload)
    raw.flush()

    start_worker(worker_env(broker.bootstrap, database_url))
    expected_stored = len(good) + len(sanitisable)
    assert wait_until(lambda: count_rows(database_url) >= expected_stored, timeout=240)

    letters = _dead_letters(broker.bootstrap, len(refused))
    assert len(letters) == len(refused)
    reasons = {letter.payload: letter.error for letter in letters}
    for hint, payload in refused.items():
        matching = [error for body, error in reasons.items() if json.loads(body) == payload]
        assert len(matching) == 1, (hint, reasons)
        assert hint.split("-")[0] in matching[0], matching[0]
    assert all(letter.stage == "validate" and letter.topic == MENTIONS_RAW for letter in letters)

    # The worker is not stuck: a valid mention sent after the poison is stored.
    _send(raw, _payload("after"))
    raw.flush()
    raw.close()
    assert wait_until(lambda: count_rows(database_url) >= expected_stored + 1, timeout=120)

    rows = _rows(database_url)
    assert set(rows) == {p["external_id"] for p in good} | set(sanitisable) | {"after"}
    assert rows["nul-text"][0] == "Где мой заказ?"
    assert rows["long-name"][1] == "Я" * 255
    assert count_rows(database_url) == len(rows)  # each stored exactly once
