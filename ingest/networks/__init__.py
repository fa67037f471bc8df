"""The posting side of the networks: one Poster a network, used by ingest.publisher."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from schemas import Reply


@dataclass(frozen=True, slots=True)
class Posted:
    external_id: str
    url: str


class Poster(Protocol):
    def post(self, reply: Reply) -> Posted:
        """Post the reply in its thread; raises a CollectorError subclass."""
        ...

    def find(self, reply: Reply) -> Posted | None:
        """The reply if an earlier attempt already reached the network (checked after a crash)."""
        ...
