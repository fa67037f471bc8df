"""Faust handles of the wire topics. Values are raw bytes, validated by the pydantic contracts."""

from __future__ import annotations

from dataclasses import dataclass

import faust
from faust.types import TopicT

from schemas import topics


def _raw_topic(app: faust.App, name: str) -> TopicT:
    return app.topic(name, value_type=bytes, value_serializer="raw", key_type=bytes, key_serializer="raw")


@dataclass(frozen=True, slots=True)
class WorkerTopics:
    raw_mentions: TopicT
    scored_mentions: TopicT
    dead_letters: TopicT
    alerts: TopicT

    @classmethod
    def of(cls, app: faust.App) -> WorkerTopics:
        return cls(
            raw_mentions=_raw_topic(app, topics.MENTIONS_RAW),
            scored_mentions=_raw_topic(app, topics.MENTIONS_SCORED),
            dead_letters=_raw_topic(app, topics.MENTIONS_DLQ),
            alerts=_raw_topic(app, topics.ALERTS),
        )
