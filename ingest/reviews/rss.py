"""Any RSS or Atom feed of reviews (a site's own feed, a feed-generating service, a blog search).

The whole feed is one document, re-read every run: entries at or after `cursor - overlap` are
delivered (duplicates are dropped downstream), oldest first, in one Page."""

from __future__ import annotations

import calendar
import logging
import time
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import feedparser

from ingest.base import Collector, CursorUpdate, Page
from ingest.errors import BrokenPayload, CollectorError
from ingest.http import PoliteClient
from ingest.reviews.paged import SKIPPABLE, format_cursor, read_cursor
from ingest.reviews.parsing import element_text, soup_of
from schemas import Mention
from schemas.mention import Author

log = logging.getLogger(__name__)


def feed_site(url: str) -> str:
    """The `review:<site>` name of a feed: its host name, e.g. "reviews.example"."""
    return (urlsplit(url).hostname or "feed").lower()


def parse_feed(
    payload: bytes, url: str, brand: str | None = None
) -> tuple[list[Mention], list[BrokenPayload]]:
    """The feed's entries as Mentions, plus one BrokenPayload per entry that could not be read.
    Raises BrokenPayload when the document is not a feed at all."""
    site = feed_site(url)
    source = f"review:{site}"
    parsed = feedparser.parse(payload)
    if not parsed.get("version") and not parsed.get("entries"):
        reason = parsed.get("bozo_exception") or "no RSS or Atom document"
        raise BrokenPayload(source, f"{url}: not a feed ({reason})")
    mentions: list[Mention] = []
    broken: list[BrokenPayload] = []
    for index, entry in enumerate(parsed.get("entries", [])):
        try:
            mentions.append(_entry_mention(entry, source, brand))
        except BrokenPayload as exc:
            broken.append(BrokenPayload(source, f"{url} entry {index + 1}: {exc.message}"))
    return mentions, broken


def _entry_mention(entry: Mapping[str, Any], source: str, brand: str | None) -> Mention:
    external_id = str(entry.get("id") or entry.get("link") or "").strip()
    if not external_id:
        raise BrokenPayload(source, "no id or link")
    stamp = entry.get("published_parsed") or entry.get("updated_parsed")
    if not isinstance(stamp, time.struct_time):
        raise BrokenPayload(source, f"{external_id}: no publication date")
    # feedparser normalises dates to UTC struct_time; timegm reads it as UTC
    created_at = datetime.fromtimestamp(calendar.timegm(stamp), tz=UTC)
    title = " ".join(str(entry.get("title", "")).split())
    contents = entry.get("content") or []
    html = str(contents[0].get("value", "")) if contents else str(entry.get("summary", ""))
    body = element_text(soup_of(html).body) if html.strip() else ""
    text = "\n\n".join(part for part in (title, body) if part)
    if not text:
        raise BrokenPayload(source, f"{external_id}: no text")
    detail = entry.get("author_detail") or {}
    name = str(entry.get("author") or detail.get("name") or "").strip() or None
    return Mention(
        source=source,
        external_id=external_id,
        thread_key=f"{source}:{external_id}",
        url=str(entry.get("link")) if entry.get("link") else None,
        author=Author(id=name or "anonymous", name=name, url=detail.get("href")),
        text=text,
        created_at=created_at,
        brand=brand,
    )


class RssCollector(Collector):
    """One RSS or Atom feed."""

    def __init__(
        self,
        url: str,
        client: PoliteClient,
        brand: str | None = None,
        *,
        overlap: timedelta = timedelta(hours=24),
    ) -> None:
        self.url = url
        self.client = client
        self.brand = brand
        self.overlap = overlap
        self.site = feed_site(url)
        self.name = f"review:{self.site}"
        self.skipped: list[CollectorError] = []

    @property
    def cursor_key(self) -> str:
        return f"feed:{self.url}"

    def fetch(self, cursors: Mapping[str, str]) -> Iterator[Page]:
        self.skipped = []
        since = read_cursor(cursors.get(self.cursor_key))
        try:
            payload = self.client.get(self.url, collector=self.name).content
            mentions, broken = parse_feed(payload, self.url, self.brand)
        except SKIPPABLE as exc:
            self._skip(exc)
            return
        for bad_entry in broken:
            self._skip(bad_entry)
        floor = since - self.overlap if since is not None else None
        fresh = sorted(
            (m for m in mentions if floor is None or m.created_at >= floor), key=lambda m: m.created_at
        )
        if not fresh:
            return
        newest = max(fresh[-1].created_at, since) if since is not None else fresh[-1].created_at
        yield Page(mentions=fresh, cursors=(CursorUpdate(self.cursor_key, format_cursor(newest)),))

    def _skip(self, exc: CollectorError) -> None:
        self.skipped.append(exc)
        log.error("%s: skipped %s: %s", self.name, type(exc).__name__, exc.message)
