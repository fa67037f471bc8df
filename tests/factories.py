"""Small builders of contract objects for tests. Every argument has a sensible default.

`scored_mention("p1")` is a root post (thread_key "p1"); `scored_mention("c1", parent=post)` a reply
in its thread, five minutes later; `conversation(10, 4)` ten posts with four customer replies each.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

from schemas.mention import Author, Metrics
from schemas.scored import LabelProbs, ScoredMention, SentimentLabel

BASE_TIME = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
_counter = itertools.count(1)


def author(
    author_id: str | None = None, *, name: str | None = None, is_brand: bool = False, **extra: Any
) -> Author:
    author_id = author_id or f"u{next(_counter)}"
    return Author(
        id=author_id, name=name or f"User {author_id}", handle=f"@{author_id}", is_brand=is_brand, **extra
    )


def label_for(negativity: float) -> tuple[SentimentLabel, LabelProbs]:
    """A label and probabilities consistent with the given negativity."""
    rest = 1.0 - negativity
    if negativity >= 0.5:
        return "negative", LabelProbs(negative=negativity, neutral=rest * 0.6, positive=rest * 0.4)
    if negativity <= 0.2:
        return "positive", LabelProbs(negative=negativity, neutral=rest * 0.3, positive=rest * 0.7)
    return "neutral", LabelProbs(negative=negativity, neutral=rest * 0.7, positive=rest * 0.3)


def scored_mention(
    external_id: str | None = None,
    *,
    source: str = "vk",
    thread_key: str | None = None,
    parent: ScoredMention | None = None,
    parent_external_id: str | None = None,
    text: str | None = None,
    negativity: float = 0.5,
    created_at: datetime | None = None,
    author_id: str | None = None,
    author_name: str | None = None,
    is_brand: bool = False,
    lang: str | None = "ru",
    brand: str | None = "acme",
    **extra: Any,
) -> ScoredMention:
    """A valid ScoredMention. With `parent`, it is a reply in the parent's thread."""
    external_id = external_id or f"m{next(_counter)}"
    if parent is not None:
        thread_key = thread_key or parent.thread_key
        parent_external_id = parent_external_id or parent.external_id
        source = parent.source
        created_at = created_at or parent.created_at + timedelta(minutes=5)
    label, probs = label_for(negativity)
    fields: dict[str, Any] = {
        "source": source,
        "external_id": external_id,
        "thread_key": thread_key or external_id,
        "parent_external_id": parent_external_id,
        "url": f"https://example.test/{source}/{external_id}",
        "author": author(author_id, name=author_name, is_brand=is_brand),
        "text": text or f"mention {external_id}",
        "lang": lang,
        "created_at": created_at or BASE_TIME,
        "collected_at": (created_at or BASE_TIME) + timedelta(seconds=30),
        "brand": brand,
        "metrics": Metrics(likes=1),
        "negativity": negativity,
        "label": label,
        "probs": probs,
        "model_version": "test-1",
        "scored_at": (created_at or BASE_TIME) + timedelta(seconds=40),
    }
    fields.update(extra)
    return ScoredMention(**fields)


def conversation(
    n_threads: int = 10,
    replies_per_thread: int = 4,
    *,
    source: str = "vk",
    prefix: str = "t",
    start: datetime = BASE_TIME,
) -> list[ScoredMention]:
    """`n_threads` posts, each with `replies_per_thread` customer replies, deterministic ids and times."""
    out: list[ScoredMention] = []
    for i in range(n_threads):
        post = scored_mention(
            f"{prefix}{i}",
            source=source,
            created_at=start + timedelta(minutes=i),
            negativity=round((i % 10) / 10, 2),
            author_id=f"{prefix}a{i}",
        )
        out.append(post)
        for j in range(replies_per_thread):
            out.append(
                scored_mention(
                    f"{prefix}{i}r{j}",
                    parent=post,
                    created_at=post.created_at + timedelta(minutes=j + 1),
                    negativity=round(((i + j) % 10) / 10, 2),
                    author_id=f"{prefix}a{i}_{j % 2}",
                )
            )
    return out
