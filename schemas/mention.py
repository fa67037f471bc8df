"""A mention as collected from a network, before scoring."""

import re
from typing import Annotated, Literal

from pydantic import Field, field_validator

from schemas.base import SCHEMA_VERSION, Contract, UtcDatetime, utc_now

SOURCE_PATTERN = re.compile(r"^(vk|twitter|replay|review:[a-z0-9][a-z0-9.\-]*)$")

Language = Literal["ru", "en", "other"]


class Author(Contract):
    id: str
    name: str | None = None
    handle: str | None = None
    url: str | None = None
    followers: int | None = Field(default=None, ge=0)
    is_brand: bool = False


class Metrics(Contract):
    likes: int = Field(default=0, ge=0)
    reposts: int = Field(default=0, ge=0)
    replies: int = Field(default=0, ge=0)
    views: int = Field(default=0, ge=0)


NonEmpty = Annotated[str, Field(min_length=1)]


class Mention(Contract):
    """One public post, comment, tweet or review that names a watched brand."""

    schema_version: Literal[1] = SCHEMA_VERSION
    source: NonEmpty
    external_id: NonEmpty
    thread_key: NonEmpty
    parent_external_id: str | None = None
    url: str | None = None
    author: Author
    text: NonEmpty
    lang: Language | None = None
    created_at: UtcDatetime
    collected_at: UtcDatetime = Field(default_factory=utc_now)
    brand: str | None = None
    rating: float | None = Field(default=None, ge=0, le=10)
    metrics: Metrics = Field(default_factory=Metrics)

    @field_validator("source")
    @classmethod
    def _known_source(cls, value: str) -> str:
        if not SOURCE_PATTERN.match(value):
            raise ValueError(f"unknown source {value!r}: expected vk, twitter, replay or review:<site>")
        return value

    @property
    def key(self) -> bytes:
        """The Kafka message key: one conversation stays on one partition, in order."""
        return self.thread_key.encode("utf-8")
