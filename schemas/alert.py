"""A negativity spike raised by the stream."""

from typing import Literal

from pydantic import Field

from schemas.base import SCHEMA_VERSION, Contract, UtcDatetime


class Alert(Contract):
    schema_version: Literal[1] = SCHEMA_VERSION
    brand: str | None
    source: str | None
    window_start: UtcDatetime
    window_end: UtcDatetime
    negative_count: int = Field(ge=0)
    total_count: int = Field(ge=0)
    negative_share: float = Field(ge=0, le=1)
    baseline_share: float = Field(ge=0, le=1)
    score: float
    sample_mention_ids: tuple[str, ...] = ()
