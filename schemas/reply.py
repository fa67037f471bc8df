"""A reply an agent sends from the desk, and what the network answered."""

from typing import Literal
from uuid import UUID

from pydantic import Field

from schemas.base import SCHEMA_VERSION, Contract, UtcDatetime, utc_now

REPLY_MAX_LEN = 10_000
"""Longest reply the desk sends: above every network's own limit, and well inside a broker message."""


class Reply(Contract):
    schema_version: Literal[1] = SCHEMA_VERSION
    reply_id: UUID
    thread_key: str
    in_reply_to: str
    source: str
    text: str = Field(min_length=1, max_length=REPLY_MAX_LEN)
    agent: str
    created_at: UtcDatetime = Field(default_factory=utc_now)


class ReplyResult(Contract):
    schema_version: Literal[1] = SCHEMA_VERSION
    reply_id: UUID
    status: Literal["sent", "failed", "manual"]
    external_id: str | None = None
    url: str | None = None
    error: str | None = None
    at: UtcDatetime = Field(default_factory=utc_now)
