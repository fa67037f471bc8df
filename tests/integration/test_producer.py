"""The Kafka edge of ingest against the real embedded broker, and against no broker at all."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from kafka import KafkaConsumer

from core.bus.producer import BrokerUnavailable, MentionProducer, ensure_topics
from mentiondesk.broker import EmbeddedBroker, free_port
from schemas import Author, Mention
from schemas.topics import ALL_TOPICS, MENTIONS_RAW
from tests.support import read_topic


def test_a_dead_broker_gives_a_clear_error() -> None:
    address = f"127.0.0.1:{free_port()}"
    with pytest.raises(BrokerUnavailable, match=f"no Kafka broker at {address}"):
        MentionProducer(address)
    with pytest.raises(BrokerUnavailable, match=address):
        ensure_topics(address, partitions=1)


def test_topics_are_created_once_with_their_partitions(broker: EmbeddedBroker) -> None:
    assert sorted(ensure_topics(broker.bootstrap, partitions=3)) == sorted(ALL_TOPICS)
    assert ensure_topics(broker.bootstrap, partitions=3) == []
    consumer = KafkaConsumer(bootstrap_servers=broker.bootstrap)
    try:
        assert consumer.partitions_for_topic(MENTIONS_RAW) == {0, 1, 2}
        assert set(ALL_TOPICS) <= consumer.topics()
    finally:
        consumer.close()


def test_mentions_of_one_thread_share_a_partition_in_order(broker: EmbeddedBroker) -> None:
    ensure_topics(broker.bootstrap, partitions=4)
    now = datetime.now(UTC)
    mentions = [
        Mention(
            source="vk",
            external_id=f"{thread}-{i}",
            thread_key=f"vk:{thread}",
            author=Author(id="a"),
            text=f"message {i}",
            created_at=now,
        )
        for thread in ("t1", "t2", "t3")
        for i in range(5)
    ]
    with MentionProducer(broker.bootstrap) as producer:
        assert producer.send_all(mentions) == 15

    received = [
        (r.partition, Mention.model_validate_json(r.value))
        for r in read_topic(broker.bootstrap, MENTIONS_RAW, len(mentions), idle_ms=10_000)
    ]

    assert sorted(m.external_id for _, m in received) == sorted(m.external_id for m in mentions)
    for thread in ("vk:t1", "vk:t2", "vk:t3"):
        in_thread = [(p, m) for p, m in received if m.thread_key == thread]
        assert len({p for p, _ in in_thread}) == 1
        assert [m.external_id for _, m in in_thread] == [f"{thread[3:]}-{i}" for i in range(5)]
