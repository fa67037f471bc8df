"""Shared base for wire contracts: frozen, strict about unknown fields, UTC-aware times."""

from datetime import UTC, datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict

SCHEMA_VERSION: Literal[1] = 1


def _require_utc(value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("datetime must be timezone-aware")
    return value.astimezone(UTC)


UtcDatetime = Annotated[datetime, AfterValidator(_require_utc)]


def utc_now() -> datetime:
    """The current time, UTC-aware."""
    return datetime.now(UTC)


class Contract(BaseModel):
    """A message on the wire: immutable, and unknown fields are refused rather than dropped."""

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=False)

    def to_bytes(self) -> bytes:
        """JSON bytes as sent to Kafka."""
        return self.model_dump_json().encode("utf-8")
