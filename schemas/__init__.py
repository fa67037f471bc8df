"""Contracts shared by the collectors, the stream and the desk."""

from schemas.alert import Alert, AlertExample
from schemas.base import SCHEMA_VERSION, utc_now
from schemas.dead_letter import DeadLetter
from schemas.mention import Author, Language, Mention, Metrics
from schemas.reply import Reply, ReplyResult
from schemas.scored import LabelProbs, ScoredMention, SentimentLabel

__all__ = [
    "SCHEMA_VERSION",
    "Alert",
    "AlertExample",
    "Author",
    "DeadLetter",
    "LabelProbs",
    "Language",
    "Mention",
    "Metrics",
    "Reply",
    "ReplyResult",
    "ScoredMention",
    "SentimentLabel",
    "utc_now",
]
