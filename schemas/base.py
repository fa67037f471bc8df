"""Shared base for wire contracts: frozen, strict about unknown fields, UTC-aware times."""

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Annotated, Final, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field

SCHEMA_VERSION: Literal[1] = 1


def _require_utc(value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("datetime must be timezone-aware")
    return value.astimezone(UTC)


UtcDatetime = Annotated[datetime, AfterValidator(_require_utc)]


def utc_now() -> datetime:
    """The current time, UTC-aware."""
    return datetime.now(UTC)


# ---------------------------------------------------------------- bounds shared by the contracts
#
# Policy: what the database can store after a harmless repair is repaired here, at the edge, so every
# producer and consumer sees the same value; what cannot be repaired without changing its meaning
# (an identifier too long, a time outside the window, a number out of range) fails validation and
# the worker sends the message to the DLQ with the reason.
#
# - strings: NUL and the other C0 control characters except tab, newline and carriage return are
#   removed (PostgreSQL refuses NUL in text); display strings (names, handles) are cut to their
#   column's length; identifiers are refused when longer than their column (cutting one could
#   merge two different mentions into one row).
# - integers (counters, followers): 0 .. 2**31 - 1, the range of the columns' INTEGER.
# - times (created_at): from 2006-01-01 UTC (older than any network we watch) to one day after now
#   (clock skew between networks); anything else is a broken or hostile value.

ID_MAX_LEN: Final = 255
NAME_MAX_LEN: Final = 255
SOURCE_MAX_LEN: Final = 64
URL_MAX_LEN: Final = 2_048
TEXT_MAX_LEN: Final = 100_000
INT32_MAX: Final = 2**31 - 1
EARLIEST_CREATED_AT: Final = datetime(2006, 1, 1, tzinfo=UTC)
MAX_FUTURE_SKEW: Final = timedelta(days=1)

_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def strip_controls(value: object) -> object:
    """Remove NUL and the C0 control characters except tab, newline and carriage return."""
    if isinstance(value, str):
        return _CONTROL_CHARS.sub("", value)
    return value


def _cut_to(length: int) -> Callable[[object], object]:
    def cut(value: object) -> object:
        if isinstance(value, str):
            return _CONTROL_CHARS.sub("", value)[:length]
        return value

    return cut


def _in_window(value: datetime) -> datetime:
    if value < EARLIEST_CREATED_AT:
        raise ValueError(f"time {value.isoformat()} is before {EARLIEST_CREATED_AT.date().isoformat()}")
    if value > utc_now() + MAX_FUTURE_SKEW:
        raise ValueError(f"time {value.isoformat()} is more than {MAX_FUTURE_SKEW} ahead of now")
    return value


CleanText = Annotated[str, BeforeValidator(strip_controls)]
"""Free text: control characters removed, then the length bound of the field applies."""
Identifier = Annotated[str, BeforeValidator(strip_controls), Field(min_length=1, max_length=ID_MAX_LEN)]
"""An id or key of at most 255 characters: refused (not cut) when longer."""
OptionalIdentifier = Annotated[str, BeforeValidator(strip_controls), Field(max_length=ID_MAX_LEN)]
DisplayName = Annotated[str, BeforeValidator(_cut_to(NAME_MAX_LEN))]
"""A name or handle for people to read: cut to 255 characters."""
Url = Annotated[str, BeforeValidator(strip_controls), Field(max_length=URL_MAX_LEN)]
Count = Annotated[int, Field(ge=0, le=INT32_MAX)]
"""A counter or follower count within the database's 32-bit INTEGER."""
EventTime = Annotated[datetime, AfterValidator(_require_utc), AfterValidator(_in_window)]
"""When something happened on a network: UTC, from 2006-01-01 to one day after now."""


class Contract(BaseModel):
    """A message on the wire: immutable, and unknown fields are refused rather than dropped."""

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=False)

    def to_bytes(self) -> bytes:
        """JSON bytes as sent to Kafka."""
        return self.model_dump_json().encode("utf-8")
