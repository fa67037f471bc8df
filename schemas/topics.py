"""Kafka topic names: the one place every producer and consumer takes them from."""

from typing import Final

MENTIONS_RAW: Final = "mentions.raw.v1"
MENTIONS_SCORED: Final = "mentions.scored.v1"
MENTIONS_DLQ: Final = "mentions.dlq.v1"
REPLIES_OUTBOUND: Final = "replies.outbound.v1"
ALERTS: Final = "alerts.v1"

ALL_TOPICS: Final = (
    MENTIONS_RAW,
    MENTIONS_SCORED,
    MENTIONS_DLQ,
    REPLIES_OUTBOUND,
    ALERTS,
)
