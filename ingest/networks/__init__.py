"""The posting side of the networks: one Poster a network, used by ingest.publisher."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
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

    def find(self, reply: Reply, since: datetime) -> list[Posted]:
        """Replies of ours to the same message posted since `since` (the first attempt), earliest
        first: what an earlier attempt may have posted before a crash or a lost answer."""
        ...
