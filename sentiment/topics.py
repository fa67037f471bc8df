"""Faust handles of the wire topics. Values are raw bytes, validated by the pydantic contracts."""

from faust.types import TopicT

from schemas import topics
from sentiment.app import app


def _raw_topic(name: str) -> TopicT:
    return app.topic(name, value_type=bytes, value_serializer="raw", key_type=bytes, key_serializer="raw")


raw_mentions = _raw_topic(topics.MENTIONS_RAW)
scored_mentions = _raw_topic(topics.MENTIONS_SCORED)
dead_letters = _raw_topic(topics.MENTIONS_DLQ)
alerts = _raw_topic(topics.ALERTS)
