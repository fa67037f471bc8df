"""Topic dictionaries of the brands config tag mentions in the score path."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from core.brands import ConfigError, parse_config
from schemas import Author, Mention
from sentiment.model import Score
from sentiment.scoring import score_mentions
from sentiment.topics_rules import TopicTagger

CONFIG = parse_config(
    {
        "brands": [
            {
                "name": "acme",
                "topics": [
                    {"name": "delivery", "keywords": ["Курьер", "delivery"], "patterns": [r"\bопозда\w*"]},
                    {"name": "refund", "keywords": ["возврат"], "patterns": [r"refund(ed)?\b"]},
                ],
                "alerts": {"k": 2.5, "min_count": 3},
            },
            {"name": "globex", "topics": [{"name": "app", "keywords": ["app"]}]},
        ]
    }
)


def test_keywords_and_patterns_tag_per_brand() -> None:
    tagger = TopicTagger.from_config(CONFIG)
    assert tagger.tag("КУРЬЕР опоздал, хочу возврат", "acme") == ("delivery", "refund")
    assert tagger.tag("Never REFUNDED", "acme") == ("refund",)
    assert tagger.tag("the app crashes", "acme") == ()  # globex's topic, not acme's
    assert tagger.tag("the app crashes", "globex") == ("app",)
    assert tagger.tag("the app is late with delivery", None) == ("delivery", "app")  # unbranded: all
    assert CONFIG.brands[0].alerts.k == 2.5


def test_a_broken_pattern_is_refused_with_its_place() -> None:
    with pytest.raises(ConfigError, match=r"invalid regular expression"):
        parse_config({"brands": [{"name": "a", "topics": [{"name": "x", "patterns": ["(unclosed"]}]}]})


class _Model:
    version = "fake-1"

    def score(self, texts: list[str]) -> list[Score]:
        return [Score("negative", 0.9, {"negative": 0.9, "neutral": 0.05, "positive": 0.05}) for _ in texts]


def test_the_score_path_fills_topics() -> None:
    tagger = TopicTagger.from_config(CONFIG)
    mention = Mention(
        source="vk", external_id="1", thread_key="1", author=Author(id="u"), text="курьер опоздал",
        created_at=datetime(2026, 1, 5, tzinfo=UTC), brand="acme",
    )  # fmt: skip
    [scored] = score_mentions([mention], _Model(), lambda _t: "ru", tagger.tag_mention)  # type: ignore[arg-type]
    assert scored.topics == ("delivery",)
