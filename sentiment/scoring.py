"""Turning a batch of raw Kafka messages into scored mentions and dead letters.

Pure logic, no Faust: the agents hand it message values and hand back what it returns.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from pydantic import ValidationError

from schemas import DeadLetter, LabelProbs, Mention, ScoredMention
from schemas.mention import Language
from sentiment.model import NegativityModel
from sentiment.scored_feed import StoredMention


@dataclass(frozen=True, slots=True)
class RawMessage:
    """One message as read from a topic."""

    value: bytes | None
    topic: str
    partition: int | None = None
    offset: int | None = None
    key: bytes | None = None


@dataclass(slots=True)
class BatchOutcome:
    """What became of a batch. `origins[i]` is the message `scored[i]` came from (after parsing, the
    message each parsed mention came from): its partition and bytes, should a later step refuse it."""

    scored: list[ScoredMention] = field(default_factory=list)
    dead: list[DeadLetter] = field(default_factory=list)
    origins: list[RawMessage] = field(default_factory=list)


def dead_letter(message: RawMessage, error: str, stage: str) -> DeadLetter:
    """A dead letter that keeps the original bytes (lossless for UTF-8, replaced otherwise)."""
    payload = (message.value or b"").decode("utf-8", errors="replace")
    key = message.key.decode("utf-8", errors="replace") if message.key is not None else None
    return DeadLetter(
        topic=message.topic,
        partition=message.partition,
        offset=message.offset,
        key=key,
        payload=payload,
        error=error[:2000],
        stage=stage,
    )


def _short_validation_error(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors()[:5]:
        where = ".".join(str(p) for p in err.get("loc", ())) or "message"
        parts.append(f"{where}: {err.get('msg')}")
    return "invalid mention: " + "; ".join(parts)


def parse_mentions(messages: Sequence[RawMessage]) -> tuple[list[Mention], BatchOutcome]:
    """Validate every message; malformed ones become dead letters, the rest go on."""
    outcome = BatchOutcome()
    mentions: list[Mention] = []
    for message in messages:
        if not message.value:
            outcome.dead.append(dead_letter(message, "empty message", "validate"))
            continue
        try:
            mentions.append(Mention.model_validate_json(message.value))
            outcome.origins.append(message)
        except ValidationError as exc:
            outcome.dead.append(dead_letter(message, _short_validation_error(exc), "validate"))
    return mentions, outcome


def score_mentions(
    mentions: Sequence[Mention],
    model: NegativityModel,
    detect_language: Callable[[str], Language],
    tag_topics: Callable[[Mention], tuple[str, ...]] | None = None,
) -> list[ScoredMention]:
    """Score a batch in one model call and keep each mention's own fields unchanged.

    `tag_topics` (the brands config's topic dictionaries, sentiment/topics_rules.py) fills `topics`."""
    if not mentions:
        return []
    scores = model.score([m.text for m in mentions])
    scored: list[ScoredMention] = []
    for mention, score in zip(mentions, scores, strict=True):
        scored.append(
            ScoredMention(
                **mention.model_dump(exclude={"lang"}),
                lang=mention.lang or detect_language(mention.text),
                negativity=score.negativity,
                label=score.label,
                probs=LabelProbs(**score.probs),
                model_version=model.version,
                topics=tag_topics(mention) if tag_topics is not None else (),
            )
        )
    return scored


def split_refused(
    outcome: BatchOutcome, refused: Sequence[tuple[ScoredMention, str]]
) -> tuple[list[StoredMention], list[DeadLetter]]:
    """After the batch's write: the stored mentions (with their message's partition), and a dead letter
    for each one the database refused, holding the raw message it came from and the database's reason."""
    reasons = {id(mention): reason for mention, reason in refused}
    stored: list[StoredMention] = []
    dead: list[DeadLetter] = []
    for mention, origin in zip(outcome.scored, outcome.origins, strict=True):
        if id(mention) in reasons:
            dead.append(dead_letter(origin, reasons[id(mention)], "persist"))
        else:
            stored.append(StoredMention(mention, origin.partition or 0))
    return stored, dead
