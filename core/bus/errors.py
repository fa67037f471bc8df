"""Bus errors that callers without Kafka catch (the collector runner): this module imports no Kafka."""

from __future__ import annotations


class DeliveryFailed(RuntimeError):
    """The broker did not acknowledge some messages."""


class MessageTooLarge(DeliveryFailed):
    """One message is larger than the producer's request limit (`core.bus.producer.MAX_REQUEST_BYTES`).

    Retrying cannot deliver it, so the sender refuses it before it is queued and the caller sets it
    aside (the collector runner dead-letters it) and goes on with the rest. A DeliveryFailed, so a
    caller that only knows "not delivered, try later" (the reply relay) keeps working as before.
    """

    def __init__(self, label: str, size: int, limit: int) -> None:
        self.label = label
        self.size = size
        self.limit = limit
        super().__init__(f"{label}: {self.reason}")

    @property
    def reason(self) -> str:
        return f"message of {self.size} bytes exceeds the broker's limit of {self.limit} bytes"
