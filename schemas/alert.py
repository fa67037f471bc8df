"""A negativity spike raised by the stream (`alerts.v1`), with the explanation a person needs."""

import hashlib
from datetime import datetime
from typing import Any, Literal

from pydantic import Field, model_validator

from schemas.base import SCHEMA_VERSION, Contract, UtcDatetime, utc_now


class AlertExample(Contract):
    """One of the window's most negative mentions (text is untrusted user content)."""

    mention_id: str  # "<source>:<external_id>"
    negativity: float = Field(ge=0, le=1)
    text: str


class Alert(Contract):
    schema_version: Literal[1] = SCHEMA_VERSION
    alert_id: str = Field(default="", description="stable id of (brand, source, topic, window)")
    brand: str | None
    source: str | None
    topic: str | None = None
    window_start: UtcDatetime
    window_end: UtcDatetime
    negative_count: int = Field(ge=0)
    total_count: int = Field(ge=0)
    negative_share: float = Field(ge=0, le=1)
    baseline_share: float = Field(ge=0, le=1)
    baseline_std: float = Field(default=0.0, ge=0)
    baseline_windows: int = Field(default=0, ge=0)
    k: float | None = None
    score: float
    sample_mention_ids: tuple[str, ...] = ()
    top_terms: tuple[str, ...] = ()
    examples: tuple[AlertExample, ...] = ()
    raised_at: UtcDatetime = Field(default_factory=utc_now)

    @model_validator(mode="before")
    @classmethod
    def _default_id(cls, data: Any) -> Any:
        if isinstance(data, dict) and not data.get("alert_id"):
            start = data.get("window_start")
            stamp = start.isoformat() if isinstance(start, datetime) else str(start)
            raw = f"{data.get('brand')}|{data.get('source')}|{data.get('topic')}|{stamp}"
            data = {**data, "alert_id": hashlib.sha1(raw.encode("utf-8")).hexdigest()[:20]}
        return data

    def headline(self) -> str:
        """One line for banners, chat messages and e-mail subjects (plain text)."""
        scope = " / ".join(p for p in (self.brand, self.source, self.topic) if p) or "all mentions"
        return (
            f"Negativity spike: {scope}: {self.negative_count} of {self.total_count} negative "
            f"({self.negative_share:.0%} against a usual {self.baseline_share:.0%}) "
            f"in {self.window_start:%Y-%m-%d %H:%M}-{self.window_end:%H:%M} UTC"
        )
