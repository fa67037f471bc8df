"""Topic tagging from the per-brand dictionaries of the brands config. Pure: no Faust, no I/O.

A mention of brand B gets every topic of B whose keyword (case-insensitive substring) or regular
expression (case-insensitive search) matches its text. A mention without a brand is tagged against
every brand's topics, so the demo stream and replayed files get topics too.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from core.brands import BrandsConfig, TopicRule
from schemas import Mention

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class CompiledTopic:
    name: str
    keywords: tuple[str, ...]
    patterns: tuple[re.Pattern[str], ...]

    def matches(self, folded_text: str, text: str) -> bool:
        return any(k in folded_text for k in self.keywords) or any(p.search(text) for p in self.patterns)


def compile_topic(rule: TopicRule) -> CompiledTopic:
    return CompiledTopic(
        name=rule.name,
        keywords=tuple(k.casefold() for k in rule.keywords if k.strip()),
        patterns=tuple(re.compile(p, re.IGNORECASE) for p in rule.patterns),
    )


class TopicTagger:
    """Tags texts with the topics of their brand, in the config's order, each topic once."""

    def __init__(self, topics_by_brand: dict[str, Sequence[TopicRule]]) -> None:
        self._by_brand = {
            brand: tuple(compile_topic(rule) for rule in rules) for brand, rules in topics_by_brand.items()
        }
        seen: dict[str, CompiledTopic] = {}
        for compiled in self._by_brand.values():
            for topic in compiled:
                seen.setdefault(topic.name, topic)
        self._any_brand = tuple(seen.values())

    @classmethod
    def from_config(cls, config: BrandsConfig) -> TopicTagger:
        return cls({brand.name: brand.topics for brand in config.brands})

    @property
    def empty(self) -> bool:
        return not self._any_brand

    def tag(self, text: str, brand: str | None) -> tuple[str, ...]:
        topics = self._by_brand.get(brand, ()) if brand is not None else self._any_brand
        folded = text.casefold()
        return tuple(dict.fromkeys(t.name for t in topics if t.matches(folded, text)))

    def tag_mention(self, mention: Mention) -> tuple[str, ...]:
        return self.tag(mention.text, mention.brand)


def merge_topics(existing: Iterable[str], extra: Iterable[str]) -> tuple[str, ...]:
    """Topics of both, in order, each once."""
    return tuple(dict.fromkeys([*existing, *extra]))
