"""A mention after the negativity model has read it."""

from typing import Annotated, Literal

from pydantic import Field

from schemas.base import Contract, OptionalIdentifier, UtcDatetime, utc_now
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
    model_version: Annotated[str, Field(max_length=128)]
    topics: tuple[str, ...] = ()
    duplicate_of: OptionalIdentifier | None = None
    scored_at: UtcDatetime = Field(default_factory=utc_now)
