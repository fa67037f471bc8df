"""The crawl every review-site adapter shares: walk a product's review list (newest first, paged),
open each new review's page, and deliver reviews oldest first so the saved cursor never passes a
review that was not delivered.

Cursor: the newest review time delivered for one list URL. Each run re-reads the whole first list
page plus anything within `overlap` of the cursor (duplicates are dropped downstream by
(source, external_id)), and stops paging at the first list page that reaches below that window.

Only links on the list page's own host are followed (review pages and the next list page): a page
that points elsewhere, by mistake or planted in user content, does not send us to another site."""

from __future__ import annotations

import logging
from abc import abstractmethod
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from ingest.base import Collector, CursorUpdate, Page
from ingest.errors import BrokenPayload, CollectorError
from ingest.http import HttpStatusError, PoliteClient, RobotsDisallowed
from ingest.reviews.model import ListPage, ParsedReview, ReviewTeaser
from schemas.base import utc_now

log = logging.getLogger(__name__)

#: errors that spoil one page only: logged with the URL and skipped. RateLimited and TransientError
#: are not among them: they end the run, and the next run resumes from the saved cursor.
SKIPPABLE = (BrokenPayload, RobotsDisallowed, HttpStatusError)


def format_cursor(value: datetime) -> str:
    return value.isoformat()


def read_cursor(value: str | None) -> datetime | None:
    """The saved cursor, or None (first run, or a value we cannot read: then read everything)."""
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        log.warning("unreadable review cursor %r ignored", value)
        return None
    return parsed if parsed.tzinfo is not None else None


def _origin(url: str) -> tuple[str, int | None]:
    """(host, port) of a URL, the port made explicit for http and https."""
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        return ("", None)
    default = {"http": 80, "https": 443}.get(parts.scheme.lower())
    return ((parts.hostname or "").lower(), port if port is not None else default)


def same_host(url: str, base: str) -> bool:
    """Whether `url` is on the host (and port) of `base`; a scheme change alone keeps the host."""
    host, port = _origin(url)
    base_host, base_port = _origin(base)
    if not host or host != base_host:
        return False
    return port == base_port or {port, base_port} == {80, 443}


class PagedReviewCollector(Collector):
    """One product (or shop) page on one review site."""

    #: the site's host name as used in `review:<site>`
    site: str

    def __init__(
        self,
        url: str,
        client: PoliteClient,
        brand: str | None = None,
        *,
        overlap: timedelta = timedelta(hours=24),
        max_pages: int = 20,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.url = url
        self.client = client
        self.brand = brand
        self.overlap = overlap
        self.max_pages = max_pages
        self.clock = clock
        self.name = f"review:{self.site}"
        #: what went wrong in the last `fetch` without stopping it (for health reports and tests)
        self.skipped: list[CollectorError] = []

    @property
    def cursor_key(self) -> str:
        return f"list:{self.url}"

    @abstractmethod
    def parse_list(self, html: str, url: str, now: datetime) -> ListPage:
        """A list page's teasers (newest first) and the next page's absolute URL."""

    @abstractmethod
    def parse_review(self, html: str, url: str, now: datetime) -> ParsedReview:
        """One review page; raises BrokenPayload when the page is not a review we can read."""

    def fetch(self, cursors: Mapping[str, str]) -> Iterator[Page]:
        self.skipped = []
        since = read_cursor(cursors.get(self.cursor_key))
        newest = since
        delivered: set[str] = set()
        for teaser in reversed(self._teasers(since)):
            review = self._review(teaser)
            if review is None or review.review_id in delivered:
                continue
            delivered.add(review.review_id)
            newest = review.created_at if newest is None else max(newest, review.created_at)
            yield Page(
                mentions=review.to_mentions(self.site, self.brand),
                cursors=(CursorUpdate(self.cursor_key, format_cursor(newest)),),
            )

    def _teasers(self, since: datetime | None) -> list[ReviewTeaser]:
        """The teasers worth opening, newest first, from as many list pages as needed."""
        floor = since - self.overlap if since is not None else None
        wanted: list[ReviewTeaser] = []
        seen: set[str] = set()
        url: str | None = self.url
        for number in range(self.max_pages):
            if url is None:
                break
            page = self._list_page(url)
            if page is None:
                break
            reached_old = False
            for teaser in page.teasers:
                if not self._follows(teaser.url, url):
                    continue
                if teaser.key in seen:
                    continue  # a new review pushed this one onto the next page since we last looked
                seen.add(teaser.key)
                is_old = floor is not None and teaser.created_at is not None and teaser.created_at < floor
                reached_old = reached_old or is_old
                if number == 0 or not is_old:
                    wanted.append(teaser)
            if reached_old:
                break
            url = page.next_url if page.next_url and self._follows(page.next_url, url) else None
        return wanted

    def _follows(self, link: str, page_url: str) -> bool:
        """Whether a link found on `page_url` may be opened: only on the page's own host."""
        if same_host(link, page_url):
            return True
        log.warning("%s: ignored a link to another host on %s: %s", self.name, page_url, link)
        return False

    def _list_page(self, url: str) -> ListPage | None:
        try:
            html = self.client.get_text(url, collector=self.name)
            return self.parse_list(html, url, self.clock())
        except SKIPPABLE as exc:
            self._skip(url, "list page", exc)
            return None

    def _review(self, teaser: ReviewTeaser) -> ParsedReview | None:
        try:
            html = self.client.get_text(teaser.url, collector=self.name)
            return self.parse_review(html, teaser.url, self.clock())
        except SKIPPABLE as exc:
            self._skip(teaser.url, "review page", exc)
            return None

    def _skip(self, url: str, what: str, exc: CollectorError) -> None:
        self.skipped.append(exc)
        # robots.txt saying no is the site's choice, not a fault: a warning, not an error
        level = logging.WARNING if isinstance(exc, RobotsDisallowed) else logging.ERROR
        log.log(level, "%s: skipped %s %s: %s: %s", self.name, what, url, type(exc).__name__, exc.message)
