"""Review-site adapters, one per site, and the one call the runner needs:

    client = PoliteClient()                      # one per process; limits hold per host
    collector = build_review_collector("otzovik.com", "https://otzovik.com/reviews/magazin_acme/",
                                       client, brand="acme")
    for page in collector.fetch(saved_cursors): ...

`site` is a key of REVIEW_ADAPTERS; `url` is the product's review list (or the feed for "rss")."""

from __future__ import annotations

from typing import Protocol

from ingest.base import Collector
from ingest.http import PoliteClient
from ingest.reviews.irecommend import IrecommendCollector
from ingest.reviews.otzovik import OtzovikCollector
from ingest.reviews.rss import RssCollector


class ReviewCollectorFactory(Protocol):
    def __call__(self, url: str, client: PoliteClient, brand: str | None = None) -> Collector: ...


REVIEW_ADAPTERS: dict[str, ReviewCollectorFactory] = {
    "otzovik.com": OtzovikCollector,
    "irecommend.ru": IrecommendCollector,
    "rss": RssCollector,
}


def build_review_collector(site: str, url: str, client: PoliteClient, brand: str | None = None) -> Collector:
    """The collector for one product page (or feed) on `site`; ValueError for an unknown site."""
    try:
        factory = REVIEW_ADAPTERS[site.strip().lower()]
    except KeyError:
        known = ", ".join(sorted(REVIEW_ADAPTERS))
        raise ValueError(f"unknown review site {site!r}; known: {known}") from None
    return factory(url, client, brand)


__all__ = [
    "REVIEW_ADAPTERS",
    "IrecommendCollector",
    "OtzovikCollector",
    "RssCollector",
    "build_review_collector",
]
