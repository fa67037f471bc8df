"""Review sites and feeds for the collector tests that run whole commands: the local fake sites, a
brands config pointing at them, and what they serve (by source and external_id)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import text

from core.db.engine import make_engine
from tests.fakes.review_site_server import (
    IRECOMMEND_LIST,
    IRECOMMEND_ROUTES,
    OTZOVIK_LIST,
    OTZOVIK_ROUTES,
    RSS_ROUTES,
    ReviewSiteServer,
)

#: a second product page on the fake otzovik.com (the site as it was a few days earlier)
OTZOVIK_OUTLET = "/reviews/magazin_acme_outlet/"

#: what the fake sites serve that can be read: the fixtures' reviews (otzovik 1004 and irecommend
#: 7003 are broken pages), the shops' official answers, and the feeds' dated entries (RSS entry 503
#: has no date). Both review lists of otzovik.com show the same reviews.
EXPECTED: frozenset[tuple[str, str]] = frozenset(
    [
        ("review:otzovik.com", i)
        for i in ("1001", "1001-answer-49990", "1002", "1003", "1005", "1005-answer-50071")
    ]
    + [("review:irecommend.ru", i) for i in ("7002", "7004", "7004-answer-88001")]
    + [("review:127.0.0.1", f"https://reviews.example/acme/r/{n}") for n in (500, 501, 502)]
    + [("review:127.0.0.1", f"tag:reviews.example,2025:review-{n}") for n in (9000, 9001)]
)


@dataclass(frozen=True, slots=True)
class Sites:
    otzovik: ReviewSiteServer
    irecommend: ReviewSiteServer
    feeds: ReviewSiteServer

    def page_urls(self) -> dict[str, list[str]]:
        """The URLs of the config, by the collector that reads them."""
        return {
            "review:otzovik.com": [self.otzovik.url(OTZOVIK_LIST), self.otzovik.url(OTZOVIK_OUTLET)],
            "review:irecommend.ru": [self.irecommend.url(IRECOMMEND_LIST)],
            "rss:127.0.0.1": [self.feeds.url("/feeds/acme.xml"), self.feeds.url("/feeds/acme.atom")],
        }


@contextlib.contextmanager
def review_sites() -> Iterator[Sites]:
    otzovik_routes = {**OTZOVIK_ROUTES, OTZOVIK_OUTLET: "otzovik/list_early.html"}
    with (
        ReviewSiteServer(otzovik_routes) as otzovik,
        ReviewSiteServer(IRECOMMEND_ROUTES) as irecommend,
        ReviewSiteServer(RSS_ROUTES) as feeds,
    ):
        yield Sites(otzovik, irecommend, feeds)


def write_review_config(path: Path, sites: Sites) -> Path:
    """Brand acme: two otzovik.com pages, one irecommend.ru page and two feeds on the fake sites'
    local addresses (`site` names the adapter), plus a VK/X query that needs a token."""
    urls = sites.page_urls()
    lines = ["[[brands]]", 'name = "acme"', 'queries = ["acme"]']
    lines.append("rss = [" + ", ".join(f'"{u}"' for u in urls["rss:127.0.0.1"]) + "]")
    for site in ("otzovik.com", "irecommend.ru"):
        for url in urls[f"review:{site}"]:
            lines += ["", "[[brands.reviews]]", f'site = "{site}"', f'url = "{url}"']
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def stored_keys(
    database_url: str, sql: str = "SELECT source, external_id FROM mentions"
) -> set[tuple[str, str]]:
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            return {(r[0], r[1]) for r in conn.execute(text(sql))}
    except Exception:
        return set()
    finally:
        engine.dispose()


def cursor_keys(database_url: str) -> dict[str, set[str]]:
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT collector, key FROM collector_cursors")).all()
    finally:
        engine.dispose()
    out: dict[str, set[str]] = {}
    for collector, key in rows:
        out.setdefault(collector, set()).add(key)
    return out


def expected_cursor_keys(sites: Sites) -> dict[str, set[str]]:
    prefix = {"review:otzovik.com": "list:", "review:irecommend.ru": "list:", "rss:127.0.0.1": "feed:"}
    return {name: {prefix[name] + url for url in urls} for name, urls in sites.page_urls().items()}
