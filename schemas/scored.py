"""A mention after the negativity model has read it."""

from typing import Literal

from pydantic import Field

from schemas.base import Contract, UtcDatetime, utc_now
from schemas.mention import Mention

SentimentLabel = Literal["negative", "neutral", "positive"]


class LabelProbs(Contract):
    negative: float = Field(ge=0, le=1)
    neutral: float = Field(ge=0, le=1)
    positive: float = Field(ge=0, le=1)


class ScoredMention(Mention):
    """A Mention plus its calibrated negativity and three-way label."""

    negativity: float = Field(ge=0, le=1)
    label: SentimentLabel
    probs: LabelProbs
    model_version: str
    topics: tuple[str, ...] = ()
    duplicate_of: str | None = None
    scored_at: UtcDatetime = Field(default_factory=utc_now)
