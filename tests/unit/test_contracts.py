from datetime import UTC, datetime, timedelta, timezone

import pytest
from pydantic import ValidationError

from schemas import Author, LabelProbs, Mention, ScoredMention

NOW = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)


def _mention(**overrides: object) -> Mention:
    fields: dict[str, object] = {
        "source": "vk",
        "external_id": "-1_100",
        "thread_key": "vk:-1_100",
        "author": Author(id="42", name="Anna"),
        "text": "Где мой заказ?",
        "created_at": NOW,
    }
    fields.update(overrides)
    return Mention.model_validate(fields)


def test_round_trip_through_bytes_keeps_every_field() -> None:
    mention = _mention(lang="ru", rating=2.0)
    again = Mention.model_validate_json(mention.to_bytes())
    assert again == mention
    assert again.key == b"vk:-1_100"


def test_naive_datetimes_are_refused_and_offsets_become_utc() -> None:
    with pytest.raises(ValidationError, match="timezone-aware"):
        _mention(created_at=datetime(2026, 11, 23, 9, 30))  # noqa: DTZ001
    moscow = timezone(timedelta(hours=3))
    mention = _mention(created_at=datetime(2026, 11, 23, 12, 30, tzinfo=moscow))
    assert mention.created_at == NOW and mention.created_at.utcoffset() == timedelta(0)


@pytest.mark.parametrize("source", ["vk", "twitter", "replay", "review:otzovik.com", "review:irecommend.ru"])
def test_known_sources(source: str) -> None:
    assert _mention(source=source).source == source


@pytest.mark.parametrize("source", ["myspace", "review:", "VK", ""])
def test_unknown_sources_are_refused(source: str) -> None:
    with pytest.raises(ValidationError):
        _mention(source=source)


def test_unknown_fields_and_empty_text_are_refused() -> None:
    with pytest.raises(ValidationError, match="extra"):
        _mention(sentiment="bad")
    with pytest.raises(ValidationError):
        _mention(text="")


def test_scored_mention_keeps_probabilities_in_range() -> None:
    base = _mention().model_dump()
    scored = ScoredMention(
        **base,
        negativity=0.8,
        label="negative",
        probs=LabelProbs(negative=0.8, neutral=0.15, positive=0.05),
        model_version="m1",
    )
    assert ScoredMention.model_validate_json(scored.to_bytes()) == scored
    with pytest.raises(ValidationError):
        ScoredMention(**{**base}, negativity=1.5, label="negative", probs=scored.probs, model_version="m1")
