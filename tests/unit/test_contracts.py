import json
from datetime import UTC, datetime, timedelta, timezone

import pytest
from pydantic import ValidationError

from schemas import Author, LabelProbs, Mention, Metrics, ScoredMention

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


# ---------------------------------------------------------------- bounds and sanitising


def test_nul_and_control_characters_are_stripped_from_text_and_names() -> None:
    mention = _mention(
        text="Где\x00 мой\x07 заказ?\tСрочно\nПожалуйста\r",
        author=Author(id="4\x002", name="An\x00na\x1b", handle="an\x00na"),
    )
    assert mention.text == "Где мой заказ?\tСрочно\nПожалуйста\r"
    assert mention.author.name == "Anna"
    assert mention.author.handle == "anna"
    assert mention.author.id == "42"


def test_text_of_only_control_characters_is_refused() -> None:
    with pytest.raises(ValidationError, match="text"):
        _mention(text="\x00\x01")


def test_display_names_and_handles_are_cut_to_the_column_length() -> None:
    author = Author(id="42", name="Я" * 300, handle="h" * 400)
    assert author.name == "Я" * 255
    assert author.handle == "h" * 255
    again = Mention.model_validate_json(_mention(author=author).to_bytes())
    assert again.author.name == "Я" * 255


@pytest.mark.parametrize("field", ["external_id", "thread_key", "parent_external_id"])
def test_identifiers_over_255_characters_are_refused_not_cut(field: str) -> None:
    assert getattr(_mention(**{field: "x" * 255}), field) == "x" * 255
    with pytest.raises(ValidationError, match=field):
        _mention(**{field: "x" * 256})


def test_author_id_over_255_characters_is_refused() -> None:
    with pytest.raises(ValidationError, match="id"):
        Author(id="x" * 256)


def test_url_brand_source_and_text_lengths_are_bounded() -> None:
    _mention(url="https://example.org/" + "a" * 2000, text="x" * 100_000)
    with pytest.raises(ValidationError, match="url"):
        _mention(url="https://example.org/" + "a" * 2048)
    with pytest.raises(ValidationError, match="text"):
        _mention(text="x" * 100_001)
    with pytest.raises(ValidationError, match="brand"):
        _mention(brand="b" * 256)
    with pytest.raises(ValidationError, match="source"):
        _mention(source="review:" + "a" * 60)


@pytest.mark.parametrize("field", ["likes", "reposts", "replies", "views"])
def test_counters_stay_within_32_bits(field: str) -> None:
    assert getattr(Metrics(**{field: 2**31 - 1}), field) == 2**31 - 1
    for bad in (2**31, 2**40, 2**64, -1):
        with pytest.raises(ValidationError, match=field):
            Metrics(**{field: bad})


def test_followers_stay_within_32_bits() -> None:
    assert Author(id="1", followers=2**31 - 1).followers == 2**31 - 1
    for bad in (2**31, 2**64 + 1, -5):
        with pytest.raises(ValidationError, match="followers"):
            Author(id="1", followers=bad)


def test_created_at_must_lie_between_2006_and_one_day_ahead() -> None:
    now = datetime.now(UTC)
    _mention(created_at=datetime(2006, 1, 1, tzinfo=UTC))
    _mention(created_at=now + timedelta(hours=23))
    for bad in (
        datetime(1, 1, 1, tzinfo=UTC),
        datetime(2005, 12, 31, 23, 59, tzinfo=UTC),
        now + timedelta(days=1, minutes=5),
        datetime(9999, 12, 31, 23, 59, tzinfo=UTC),
    ):
        with pytest.raises(ValidationError, match="created_at"):
            _mention(created_at=bad)


def test_the_bounds_hold_on_the_wire_and_for_scored_mentions() -> None:
    payload = json.loads(_mention().to_bytes())
    for update, where in (
        ({"created_at": "9999-12-31T23:59:59Z"}, "created_at"),
        ({"created_at": "0001-01-01T00:00:00Z"}, "created_at"),
        ({"metrics": {"likes": 2**40}}, "likes"),
        ({"external_id": "e" * 300}, "external_id"),
    ):
        with pytest.raises(ValidationError, match=where):
            Mention.model_validate_json(json.dumps({**payload, **update}))
    scored = {
        **payload,
        "negativity": 0.5,
        "label": "neutral",
        "probs": {"negative": 0.3, "neutral": 0.5, "positive": 0.2},
        "model_version": "m1",
    }
    assert ScoredMention.model_validate_json(json.dumps({**scored, "text": "a\x00b"})).text == "ab"
    with pytest.raises(ValidationError, match="duplicate_of"):
        ScoredMention.model_validate_json(json.dumps({**scored, "duplicate_of": "d" * 256}))
