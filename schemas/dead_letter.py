"""What the stream writes to the dead-letter topic for a message it could not handle."""

from typing import Literal

from pydantic import Field

from schemas.base import SCHEMA_VERSION, Contract, UtcDatetime, utc_now

DEAD_LETTER_MAX_BYTES = 512 * 1024
"""Most bytes a dead letter may take on the wire: well inside the broker's 1 MiB message limit. The
payload of a message near that limit grows when quoted again (escapes double, an invalid UTF-8 byte
becomes a three-byte replacement character), and a letter the broker refuses would stop the agent
that sends it."""


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

    def fitting(self, max_bytes: int = DEAD_LETTER_MAX_BYTES) -> "DeadLetter":
        """This letter, or (when it would take more than `max_bytes`) a copy whose payload is cut to
        a prefix that fits; the error then says so and where the whole message is (topic,
        partition, offset)."""
        size = len(self.to_bytes())
        if size <= max_bytes:
            return self
        total = len(self.payload)
        keep = total
        while True:
            keep = max(0, min(keep - 1, keep * (max_bytes - 1024) // size))
            note = (
                f" [payload cut to its first {keep} of {total} characters to fit the dead-letter "
                f"topic; the whole message is at {self.topic}[{self.partition}]@{self.offset}]"
            )
            letter = self.model_copy(update={"payload": self.payload[:keep], "error": self.error + note})
            size = len(letter.to_bytes())
            if size <= max_bytes or keep == 0:
                return letter
