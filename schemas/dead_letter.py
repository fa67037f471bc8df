"""What the stream writes to the dead-letter topic for a message it could not handle."""

from typing import Literal

from pydantic import Field

from schemas.base import SCHEMA_VERSION, Contract, UtcDatetime, utc_now


class DeadLetter(Contract):
    """The original bytes (as text, lossless for UTF-8) with the reason they were refused."""

    schema_version: Literal[1] = SCHEMA_VERSION
    topic: str
    partition: int | None = None
    offset: int | None = None
    key: str | None = None
    payload: str
    error: str
    stage: str = Field(description="which step refused it, e.g. 'validate' or 'score'")
    failed_at: UtcDatetime = Field(default_factory=utc_now)
