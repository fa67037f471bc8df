"""A mention as collected from a network, before scoring."""

import re
from typing import Annotated, Literal

from pydantic import Field, field_validator

from schemas.base import (
    SCHEMA_VERSION,
    SOURCE_MAX_LEN,
    TEXT_MAX_LEN,
    CleanText,
    Contract,
    Count,
    DisplayName,
    EventTime,
    Identifier,
    OptionalIdentifier,
    Url,
    UtcDatetime,
    utc_now,
)

SOURCE_PATTERN = re.compile(r"^(vk|twitter|replay|review:[a-z0-9][a-z0-9.\-]*)$")

Language = Literal["ru", "en", "other"]


class Author(Contract):
    """An account. Name and handle are cut to 255 characters; the id is refused when longer."""

    id: Identifier
    name: DisplayName | None = None
    handle: DisplayName | None = None
    url: Url | None = None
    followers: Count | None = None
    is_brand: bool = False


class Metrics(Contract):
    """Counters as the network reported them, each within 0 .. 2**31 - 1."""

    likes: Count = 0
    reposts: Count = 0
    replies: Count = 0
    views: Count = 0


class Mention(Contract):
    """One public post, comment, tweet or review that names a watched brand.

    Bounds (the policy is in schemas/base.py): ids and keys at most 255 characters (refused when
    longer), text at most 100,000 characters with control characters removed, url at most 2,048,
    counters within 32 bits, created_at from 2006-01-01 to one day after now.
    """

    schema_version: Literal[1] = SCHEMA_VERSION
    source: Annotated[str, Field(min_length=1, max_length=SOURCE_MAX_LEN)]
    external_id: Identifier
    thread_key: Identifier
    parent_external_id: OptionalIdentifier | None = None
    url: Url | None = None
    author: Author
    text: Annotated[CleanText, Field(min_length=1, max_length=TEXT_MAX_LEN)]
    lang: Language | None = None
    created_at: EventTime
    collected_at: UtcDatetime = Field(default_factory=utc_now)
    brand: Annotated[str, Field(max_length=255)] | None = None
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
