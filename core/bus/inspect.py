"""Looking into the bus: topics, their partitions and offsets, and their messages decoded.

Pure reading with kafka-python (no consumer group, nothing committed, no topic auto-created); the
command line (`mentiondesk topics`) does the printing.

The embedded broker (Tansu) answers a ListOffsets request for the latest offset with the base offset
of the partition's last record batch plus one, not with the end of the log: after one batch of 3
messages it says 1. The high watermark in its Fetch responses is right, so the end of a partition is
taken from a fetch at the listed end (against Apache Kafka both agree, and this costs one fetch).
"""

from __future__ import annotations

import json
import time
from collections.abc import Generator, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from kafka import KafkaConsumer, TopicPartition
from kafka.errors import KafkaError, NoBrokersAvailable

from core.bus.producer import BrokerUnavailable

DEFAULT_TIMEOUT_S = 15.0
"""How long a listing or a read to the end waits for a broker that stopped answering."""


class NoSuchTopic(LookupError):
    """The topic (or the partition asked for) is not on the broker."""


@dataclass(frozen=True)
class PartitionOffsets:
    partition: int
    earliest: int
    latest: int
    """The offset the next message will get (the end of the log)."""

    @property
    def messages(self) -> int:
        return self.latest - self.earliest


@dataclass(frozen=True)
class TopicInfo:
    name: str
    partitions: tuple[PartitionOffsets, ...]

    @property
    def messages(self) -> int:
        return sum(p.messages for p in self.partitions)


@dataclass(frozen=True)
class Message:
    """One record, decoded: `value` when the payload is JSON, otherwise `text` (invalid UTF-8 escaped
    as \\xNN); both None for a null payload (a tombstone)."""

    topic: str
    partition: int
    offset: int
    timestamp: datetime | None
    key: str | None
    value: Any = None
    text: str | None = None
    headers: tuple[tuple[str, str], ...] = field(default=())

    def as_dict(self) -> dict[str, Any]:
        """The message as one JSON-ready object (the order is the order of the printed line)."""
        out: dict[str, Any] = {
            "topic": self.topic,
            "partition": self.partition,
            "offset": self.offset,
            "timestamp": self.timestamp.isoformat(timespec="milliseconds") if self.timestamp else None,
            "key": self.key,
        }
        if self.headers:
            out["headers"] = dict(self.headers)
        if self.text is not None:
            out["text"] = self.text
        else:
            out["value"] = self.value
        return out


def bytes_as_text(raw: bytes) -> str:
    """UTF-8 text, with every byte that is not valid UTF-8 shown as \\xNN."""
    return raw.decode("utf-8", errors="backslashreplace")


def decode_payload(raw: bytes | None) -> tuple[Any, str | None]:
    """(value, text): the parsed JSON and None, or None and the payload as text."""
    if raw is None:
        return None, None
    try:
        return json.loads(raw.decode("utf-8")), None
    except (UnicodeDecodeError, ValueError, RecursionError):
        return None, bytes_as_text(raw)


def _timestamp(ms: int | None) -> datetime | None:
    if ms is None or ms < 0:
        return None
    try:
        return datetime.fromtimestamp(ms / 1000, tz=UTC)
    except (OverflowError, OSError, ValueError):
        return None


def to_message(record: Any) -> Message:
    """A kafka-python ConsumerRecord as a Message."""
    value, text = decode_payload(record.value)
    headers = tuple((str(k), bytes_as_text(v) if v is not None else "") for k, v in record.headers or ())
    return Message(
        topic=record.topic,
        partition=record.partition,
        offset=record.offset,
        timestamp=_timestamp(record.timestamp),
        key=None if record.key is None else bytes_as_text(record.key),
        value=value,
        text=text,
        headers=headers,
    )


def _consumer(bootstrap: str, timeout_s: float) -> Any:
    try:
        return KafkaConsumer(
            bootstrap_servers=bootstrap,
            client_id="mentiondesk-topics",
            group_id=None,
            enable_auto_commit=False,
            allow_auto_create_topics=False,
            auto_offset_reset="earliest",
            fetch_max_wait_ms=100,
            request_timeout_ms=max(int(timeout_s * 1000), 11_000),
        )
    except NoBrokersAvailable as exc:
        raise BrokerUnavailable(
            f"no Kafka broker at {bootstrap}: start one with `mentiondesk broker` or set MD_KAFKA_BOOTSTRAP"
        ) from exc


def _partitions(consumer: Any, topic: str) -> list[int]:
    return sorted(consumer.partitions_for_topic(topic) or ())


def log_ends(
    consumer: Any, partitions: Sequence[TopicPartition], timeout_s: float
) -> dict[TopicPartition, int]:
    """The end of each partition's log, from the high watermark of a fetch (see the module doc).

    Leaves the consumer assigned to `partitions`; the caller seeks where it wants to read."""
    if not partitions:
        return {}
    listed: dict[TopicPartition, int] = consumer.end_offsets(list(partitions))
    consumer.assign(list(partitions))
    for tp in partitions:
        consumer.seek(tp, listed[tp])
    deadline = time.monotonic() + timeout_s
    while True:
        known = {tp: consumer.highwater(tp) for tp in partitions}
        if all(hw is not None for hw in known.values()):
            return {tp: max(listed[tp], int(known[tp])) for tp in partitions}
        if time.monotonic() > deadline:
            missing = sorted(f"{tp.topic}/{tp.partition}" for tp, hw in known.items() if hw is None)
            raise BrokerUnavailable(
                f"the broker did not answer a fetch of {', '.join(missing)} in {timeout_s:.0f}s"
            )
        consumer.poll(timeout_ms=200)


def _offsets(
    consumer: Any, partitions: Sequence[TopicPartition], timeout_s: float
) -> tuple[dict[TopicPartition, int], dict[TopicPartition, int]]:
    earliest: dict[TopicPartition, int] = consumer.beginning_offsets(list(partitions)) if partitions else {}
    return earliest, log_ends(consumer, partitions, timeout_s)


def list_topics(
    bootstrap: str, *, include_internal: bool = False, timeout_s: float = DEFAULT_TIMEOUT_S
) -> list[TopicInfo]:
    """Every topic on the broker, by name, with each partition's earliest and latest offset."""
    consumer = _consumer(bootstrap, timeout_s)
    try:
        names = sorted(name for name in consumer.topics() if include_internal or not name.startswith("__"))
        partitions = [TopicPartition(name, p) for name in names for p in _partitions(consumer, name)]
        earliest, latest = _offsets(consumer, partitions, timeout_s)
    except KafkaError as exc:
        raise BrokerUnavailable(f"the Kafka broker at {bootstrap} did not answer: {exc}") from exc
    finally:
        consumer.close()
    return [
        TopicInfo(
            name,
            tuple(
                PartitionOffsets(tp.partition, earliest[tp], latest[tp])
                for tp in partitions
                if tp.topic == name
            ),
        )
        for name in names
    ]


def _start(offset: int | None, earliest: int, end: int) -> int:
    return earliest if offset is None else min(max(offset, earliest), end)


def read_messages(
    bootstrap: str,
    topic: str,
    *,
    partition: int | None = None,
    from_offset: int | None = None,
    limit: int | None = None,
    follow: bool = False,
    timeout_s: float = DEFAULT_TIMEOUT_S,
) -> Generator[Message, None, None]:
    """The messages of `topic` (or of one partition), decoded, from `from_offset` in every partition
    read (default: the earliest; clamped to the partition's earliest and end), in order within each
    partition. Without `follow` it stops at the end each partition had when the read began; with it,
    it waits for new messages until `limit` or until the caller stops iterating.

    Raises BrokerUnavailable when no broker answers (or, before the end, stops answering for
    `timeout_s`), NoSuchTopic for a topic or partition the broker does not have."""
    consumer = _consumer(bootstrap, timeout_s)
    try:
        yield from _read(
            consumer,
            bootstrap=bootstrap,
            topic=topic,
            partition=partition,
            from_offset=from_offset,
            limit=limit,
            follow=follow,
            timeout_s=timeout_s,
        )
    except KafkaError as exc:
        raise BrokerUnavailable(f"the Kafka broker at {bootstrap} stopped answering: {exc}") from exc
    finally:
        consumer.close()


def _read(
    consumer: Any,
    *,
    bootstrap: str,
    topic: str,
    partition: int | None,
    from_offset: int | None,
    limit: int | None,
    follow: bool,
    timeout_s: float,
) -> Iterator[Message]:
    known = _partitions(consumer, topic)
    if not known:
        names = sorted(n for n in consumer.topics() if not n.startswith("__"))
        raise NoSuchTopic(
            f"no topic {topic!r} on the broker at {bootstrap}; its topics: {', '.join(names) or 'none'}"
        )
    if partition is not None and partition not in known:
        raise NoSuchTopic(f"topic {topic!r} has no partition {partition}; its partitions: {known}")
    chosen = [TopicPartition(topic, p) for p in ([partition] if partition is not None else known)]
    earliest, end = _offsets(consumer, chosen, timeout_s)
    for tp in chosen:
        consumer.seek(tp, _start(from_offset, earliest[tp], end[tp]))
    if limit is not None and limit <= 0:
        return
    sent = 0
    last_progress = time.monotonic()
    while follow or any(consumer.position(tp) < end[tp] for tp in chosen):
        batch: dict[TopicPartition, list[Any]] = consumer.poll(timeout_ms=500)
        for tp in sorted(batch, key=lambda t: t.partition):
            for record in batch[tp]:
                if not follow and record.offset >= end[tp]:
                    continue  # arrived after the read began
                yield to_message(record)
                sent += 1
                if limit is not None and sent >= limit:
                    return
        if batch:
            last_progress = time.monotonic()
        elif follow and time.monotonic() - last_progress > timeout_s:
            # Quiet for a while: a broker that went away would leave kafka-python retrying silently
            # forever, so ask it something that times out (KafkaTimeoutError, a KafkaError).
            consumer.end_offsets(chosen)
            last_progress = time.monotonic()
        elif not follow and time.monotonic() - last_progress > timeout_s:
            raise BrokerUnavailable(
                f"the Kafka broker at {bootstrap} sent nothing for {timeout_s:.0f}s before the end of {topic}"
            )
