"""The Kafka edge of ingest: the only module that talks kafka-python.

Collectors yield Mentions; this module sends them, keyed by thread, and refuses to lose any:
a send that the broker did not acknowledge raises at flush. A message larger than the request
limit is refused at once with `core.bus.errors.MessageTooLarge` (no retry could deliver it), so the
caller can dead-letter that one and go on.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from types import TracebackType
from typing import Any, Final

from kafka import KafkaAdminClient, KafkaProducer
from kafka.admin import NewTopic
from kafka.errors import KafkaError, MessageSizeTooLargeError, NoBrokersAvailable, TopicAlreadyExistsError
from kafka.record.default_records import DefaultRecordBatchBuilder

from core.bus.errors import DeliveryFailed, MessageTooLarge
from schemas import DeadLetter, Mention, Reply
from schemas.topics import ALL_TOPICS, MENTIONS_DLQ, MENTIONS_RAW, REPLIES_OUTBOUND

__all__ = [
    "MAX_REQUEST_BYTES",
    "BrokerUnavailable",
    "DeliveryFailed",
    "MentionProducer",
    "MessageTooLarge",
    "ensure_topics",
    "publish_reply",
]

log = logging.getLogger(__name__)

#: The largest message the producer sends (its `max_request_size`), in bytes as Kafka counts a record:
#: kafka-python's default and, give or take the batch header, Kafka's default `message.max.bytes`.
#: The one place the limit is chosen; a broker configured lower needs this lowered with it.
MAX_REQUEST_BYTES: Final = 1_048_576


class BrokerUnavailable(RuntimeError):
    """No Kafka broker answered at the configured address."""


def ensure_topics(bootstrap: str, partitions: int, topics: Iterable[str] = ALL_TOPICS) -> list[str]:
    """Create the missing topics; returns the names created. Safe to call from several processes."""
    try:
        admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id="mentiondesk-admin")
    except NoBrokersAvailable as exc:
        raise BrokerUnavailable(f"no Kafka broker at {bootstrap}") from exc
    # Create and catch "already exists" rather than list first: listing asks for ACL metadata
    # that some Kafka-compatible brokers answer in a form kafka-python cannot parse.
    created: list[str] = []
    try:
        for name in topics:
            try:
                admin.create_topics([NewTopic(name, num_partitions=partitions, replication_factor=1)])
                created.append(name)
            except TopicAlreadyExistsError:
                pass
    finally:
        admin.close()
    return created


class MentionProducer:
    """Sends mentions to `mentions.raw.v1`, key = thread_key, acks from all replicas."""

    def __init__(
        self,
        bootstrap: str,
        *,
        topic: str = MENTIONS_RAW,
        client_id: str = "mentiondesk-ingest",
        max_request_bytes: int = MAX_REQUEST_BYTES,
    ) -> None:
        self.topic = topic
        self.max_request_bytes = max_request_bytes
        try:
            self._producer = KafkaProducer(
                bootstrap_servers=bootstrap,
                client_id=client_id,
                acks="all",
                retries=10,
                linger_ms=10,
                max_block_ms=30_000,
                request_timeout_ms=15_000,
                max_request_size=max_request_bytes,
            )
        except NoBrokersAvailable as exc:
            raise BrokerUnavailable(
                f"no Kafka broker at {bootstrap}: "
                "start one with `mentiondesk broker` or set MD_KAFKA_BOOTSTRAP"
            ) from exc
        self._lock = threading.Lock()
        self._failures: list[str] = []
        self.sent = 0

    def _on_error(self, exc: BaseException, mention_id: str) -> None:
        with self._lock:
            self._failures.append(f"{mention_id}: {exc!r}")

    def send(self, mention: Mention) -> None:
        """Queue one mention; delivery is confirmed by `flush`."""
        self.send_raw(mention.key, mention.to_bytes(), f"{mention.source}/{mention.external_id}")

    def send_dead_letter(self, letter: DeadLetter) -> None:
        """Queue a dead letter to `mentions.dlq.v1` (key = the refused message's key); `flush` confirms it."""
        key = letter.key.encode("utf-8") if letter.key is not None else None
        self._send(MENTIONS_DLQ, key, letter.to_bytes(), f"dead letter from {letter.topic}")

    def send_raw(self, key: bytes | None, value: bytes, label: str = "") -> None:
        """Queue one message to this producer's topic; MessageTooLarge when over the request limit."""
        self._send(self.topic, key, value, label)

    def _send(self, topic: str, key: bytes | None, value: bytes, label: str) -> None:
        size = DefaultRecordBatchBuilder.estimate_size_in_bytes(key, value, [])
        if size > self.max_request_bytes:  # kafka-python's own check, made before the record is queued
            raise MessageTooLarge(label, size, self.max_request_bytes)
        try:
            future: Any = self._producer.send(topic, key=key, value=value)
        except KafkaError as exc:
            raise BrokerUnavailable(f"could not send to {topic}: {exc}") from exc
        if future.is_done and isinstance(future.exception, MessageSizeTooLargeError):
            # kafka-python fails the future at once (an older record format counts differently)
            raise MessageTooLarge(label, size, self.max_request_bytes)
        future.add_errback(self._on_error, label)
        self.sent += 1

    def send_all(self, mentions: Iterable[Mention]) -> int:
        count = 0
        for mention in mentions:
            self.send(mention)
            count += 1
        self.flush()
        return count

    def flush(self, timeout: float = 30.0) -> None:
        """Block until every queued message is acknowledged; raise if any was refused."""
        try:
            self._producer.flush(timeout=timeout)
        except KafkaError as exc:
            raise DeliveryFailed(f"broker did not acknowledge in {timeout:.0f}s: {exc}") from exc
        with self._lock:
            failures, self._failures = self._failures, []
        if failures:
            raise DeliveryFailed(f"{len(failures)} messages not delivered, first: {failures[0]}")

    def close(self) -> None:
        try:
            self.flush()
        finally:
            self._producer.close(timeout=5)

    def __enter__(self) -> MentionProducer:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if exc is None:
            self.close()
        else:
            self._producer.close(timeout=5)


def publish_reply(bootstrap: str, reply: Reply, *, timeout: float = 15.0) -> None:
    """Send one desk reply to `replies.outbound.v1` (key = thread_key) and wait for the broker's ack."""
    with MentionProducer(bootstrap, topic=REPLIES_OUTBOUND, client_id="mentiondesk-desk") as producer:
        producer.send_raw(reply.thread_key.encode("utf-8"), reply.to_bytes(), str(reply.reply_id))
        producer.flush(timeout)
