"""Review collectors with the real PoliteClient against a static fake of each site: paging, brand
replies, broken pages skipped, robots.txt, Retry-After, per-host pacing, cursors across runs.
Pacing is asserted on the instants the client sent each request and, on average, on the
arrival times the server recorded."""

from __future__ import annotations

import itertools
import logging
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests

from ingest.base import Page
from ingest.errors import BrokenPayload, RateLimited, TransientError
from ingest.http import PoliteClient, PolitenessPolicy, RobotsDisallowed
from ingest.reviews import IrecommendCollector, OtzovikCollector, RssCollector
from tests.fakes.review_site_server import (
    IRECOMMEND_LIST,
    IRECOMMEND_ROUTES,
    OTZOVIK_LIST,
    OTZOVIK_ROUTES,
    RSS_ROUTES,
    ReviewSiteServer,
)

NOW = datetime(2025, 3, 15, 9, 0, tzinfo=UTC)
INTERVAL = 0.05


def _now() -> datetime:
    return NOW


@pytest.fixture
def client() -> Iterator[PoliteClient]:
    policy = PolitenessPolicy(min_interval_s=INTERVAL, max_retries=2, backoff_base_s=0.01, backoff_max_s=0.05)
    polite = PoliteClient(policy)
    yield polite
    polite.close()


@pytest.fixture
def otzovik_site() -> Iterator[ReviewSiteServer]:
    with ReviewSiteServer(OTZOVIK_ROUTES) as site:
        yield site


@pytest.fixture
def irecommend_site() -> Iterator[ReviewSiteServer]:
    with ReviewSiteServer(IRECOMMEND_ROUTES) as site:
        yield site


@pytest.fixture
def feed_site() -> Iterator[ReviewSiteServer]:
    with ReviewSiteServer(RSS_ROUTES) as site:
        yield site


def _otzovik(site: ReviewSiteServer, client: PoliteClient) -> OtzovikCollector:
    return OtzovikCollector(site.url(OTZOVIK_LIST), client, "acme", clock=_now)


def _ids(pages: list[Page]) -> list[str]:
    return [m.external_id for page in pages for m in page.mentions]


def test_otzovik_pages_through_the_list_and_delivers_oldest_first_with_brand_replies(
    otzovik_site: ReviewSiteServer, client: PoliteClient, caplog: pytest.LogCaptureFixture
) -> None:
    collector = _otzovik(otzovik_site, client)
    with caplog.at_level(logging.ERROR, logger="ingest.reviews"):
        pages = list(collector.fetch({}))

    assert _ids(pages) == ["1001", "1001-answer-49990", "1002", "1003", "1005", "1005-answer-50071"]
    replies = [m for p in pages for m in p.mentions if m.author.is_brand]
    assert [(m.thread_key, m.parent_external_id) for m in replies] == [
        ("review:otzovik.com:1001", "1001"),
        ("review:otzovik.com:1005", "1005"),
    ]
    # every page carries the cursor of the newest review delivered so far, never going back
    assert [p.cursors[0].value for p in pages] == [
        "2025-03-04T21:00:00+00:00",
        "2025-03-08T06:00:00+00:00",
        "2025-03-12T11:05:00+00:00",
        "2025-03-14T16:30:00+00:00",
    ]
    assert {c.key for p in pages for c in p.cursors} == {f"list:{otzovik_site.url(OTZOVIK_LIST)}"}
    # the broken page was asked for once, logged with its source and URL, and the run went on
    assert otzovik_site.count("/review_1004.html") == 1
    broken_url = otzovik_site.url("/review_1004.html")
    assert [type(e) for e in collector.skipped] == [BrokenPayload]
    assert f"review:otzovik.com: skipped review page {broken_url}: BrokenPayload" in caplog.text
    assert "no review body" in caplog.text
    # robots.txt once, both list pages, then each review once
    assert otzovik_site.paths()[:3] == ["/robots.txt", "/reviews/magazin_acme/", "/reviews/magazin_acme/2/"]
    assert sorted(otzovik_site.paths()[3:]) == [f"/review_{n}.html" for n in range(1001, 1006)]
    assert all(r.user_agent.startswith("mentiondesk/") for r in otzovik_site.requests)


def test_irecommend_pages_through_the_list_and_skips_the_captcha_page(
    irecommend_site: ReviewSiteServer, client: PoliteClient, caplog: pytest.LogCaptureFixture
) -> None:
    collector = IrecommendCollector(irecommend_site.url(IRECOMMEND_LIST), client, "acme", clock=_now)
    with caplog.at_level(logging.ERROR, logger="ingest.reviews"):
        pages = list(collector.fetch({}))

    assert _ids(pages) == ["7002", "7004", "7004-answer-88001"]
    answer = pages[-1].mentions[1]
    assert answer.author.is_brand and answer.parent_external_id == "7004"
    assert answer.thread_key == "review:irecommend.ru:7004"
    assert answer.created_at == datetime(2025, 3, 14, 15, 40, tzinfo=UTC)  # "вчера в 18:40"
    assert irecommend_site.count("/content/magazin-acme?page=1") == 1
    assert f"skipped review page {irecommend_site.url('/content/vernuli-ne-vse-dengi')}" in caplog.text
    assert "no review block" in caplog.text


def test_robots_disallowed_review_is_never_requested_and_the_rest_are_read(
    otzovik_site: ReviewSiteServer, client: PoliteClient, caplog: pytest.LogCaptureFixture
) -> None:
    otzovik_site.set_robots("User-agent: *\nDisallow: /review_1003.html\n")
    collector = _otzovik(otzovik_site, client)
    with caplog.at_level(logging.INFO):
        ids = _ids(list(collector.fetch({})))

    assert "1003" not in ids
    assert ids == ["1001", "1001-answer-49990", "1002", "1005", "1005-answer-50071"]
    assert otzovik_site.count("/review_1003.html") == 0
    assert any(isinstance(e, RobotsDisallowed) for e in collector.skipped)
    assert "robots.txt disallows" in caplog.text


def test_robots_shutting_out_mentiondesk_means_only_robots_txt_is_read(
    otzovik_site: ReviewSiteServer, client: PoliteClient
) -> None:
    otzovik_site.set_robots("User-agent: mentiondesk\nDisallow: /\n\nUser-agent: *\nAllow: /\n")
    collector = _otzovik(otzovik_site, client)

    assert list(collector.fetch({})) == []
    assert otzovik_site.paths() == ["/robots.txt"]


def test_429_with_retry_after_is_waited_out_then_the_crawl_resumes(
    otzovik_site: ReviewSiteServer, client: PoliteClient
) -> None:
    otzovik_site.fail("/review_1003.html", 429, retry_after="1")
    ids = _ids(list(_otzovik(otzovik_site, client).fetch({})))

    assert "1003" in ids and len(ids) == 6
    refused, served = otzovik_site.hits("/review_1003.html")
    assert (refused.status, served.status) == (429, 200)
    assert served.at - refused.at >= 0.95  # the server saw the retry only after Retry-After


def test_503_is_retried_with_backoff(otzovik_site: ReviewSiteServer, client: PoliteClient) -> None:
    otzovik_site.fail("/review_1002.html", 503, times=2)
    ids = _ids(list(_otzovik(otzovik_site, client).fetch({})))

    assert "1002" in ids
    assert [r.status for r in otzovik_site.hits("/review_1002.html")] == [503, 503, 200]


def test_429_beyond_the_retries_raises_rate_limited_for_the_runner(
    otzovik_site: ReviewSiteServer, client: PoliteClient
) -> None:
    otzovik_site.fail(OTZOVIK_LIST, 429, times=3, retry_after="0")
    with pytest.raises(RateLimited) as caught:
        list(_otzovik(otzovik_site, client).fetch({}))

    assert caught.value.collector == "review:otzovik.com"
    assert otzovik_site.count(OTZOVIK_LIST) == 3  # first try + max_retries=2


def test_a_retry_after_too_long_to_wait_is_handed_to_the_runner_at_once(
    otzovik_site: ReviewSiteServer, client: PoliteClient
) -> None:
    otzovik_site.fail(OTZOVIK_LIST, 503, retry_after="3600")
    with pytest.raises(RateLimited) as caught:
        list(_otzovik(otzovik_site, client).fetch({}))

    assert caught.value.retry_after == 3600.0
    assert otzovik_site.count(OTZOVIK_LIST) == 1


def test_an_unreachable_site_is_a_transient_error(client: PoliteClient) -> None:
    with ReviewSiteServer(OTZOVIK_ROUTES) as site:
        url = site.url(OTZOVIK_LIST)
    # the server is gone: connection refused, retried, then reported
    with pytest.raises(TransientError, match=r"robots\.txt failed"):
        list(OtzovikCollector(url, client, "acme", clock=_now).fetch({}))


class _TimedSession(requests.Session):
    """A real requests session that notes the instant each GET leaves the client, per host."""

    def __init__(self) -> None:
        super().__init__()
        self.sent: dict[str, list[float]] = {}

    def get(self, url: str | bytes, **kwargs: Any) -> requests.Response:
        host = urlsplit(str(url)).netloc
        self.sent.setdefault(host, []).append(time.monotonic())
        return super().get(url, **kwargs)


def test_requests_to_one_host_keep_the_minimum_interval(
    otzovik_site: ReviewSiteServer, irecommend_site: ReviewSiteServer
) -> None:
    interval = 0.1
    session = _TimedSession()
    polite = PoliteClient(PolitenessPolicy(min_interval_s=interval), session=session)
    list(_otzovik(otzovik_site, polite).fetch({}))
    list(IrecommendCollector(irecommend_site.url(IRECOMMEND_LIST), polite, "acme", clock=_now).fetch({}))
    polite.close()

    for site in (otzovik_site, irecommend_site):
        sent = session.sent[urlsplit(site.url("/")).netloc]
        arrivals = [r.at for r in site.requests]
        assert len(sent) == len(arrivals) >= 5
        # the client's own send instants: never two closer than the interval
        send_gaps = [later - earlier for earlier, later in itertools.pairwise(sent)]
        assert min(send_gaps) >= interval * 0.99, send_gaps
        # what the site saw: no faster than the interval, give or take one interval (a loaded server
        # thread that records an arrival late shortens the span; single gaps are not held to it, and
        # a client that ignored the interval would send them all within a few milliseconds)
        assert arrivals[-1] - arrivals[0] >= interval * (len(arrivals) - 2)


def test_second_run_with_the_saved_cursor_reads_new_reviews_plus_the_overlap_and_loses_none(
    otzovik_site: ReviewSiteServer, client: PoliteClient
) -> None:
    # run 1: the site as it was on 12 March
    otzovik_site.set_route(OTZOVIK_LIST, "otzovik/list_early.html")
    first = list(_otzovik(otzovik_site, client).fetch({}))
    assert _ids(first) == ["1001", "1001-answer-49990", "1002", "1003"]
    cursor = first[-1].cursors[0]
    saved = {cursor.key: cursor.value}
    assert cursor.value == "2025-03-12T11:05:00+00:00"

    # run 2: two new reviews on top (1004 is broken), the rest pushed down
    otzovik_site.set_route(OTZOVIK_LIST, "otzovik/list_p1.html")
    before = len(otzovik_site.requests)
    second = list(_otzovik(otzovik_site, client).fetch(saved))
    run2_paths = otzovik_site.paths()[before:]

    assert _ids(second) == ["1003", "1005", "1005-answer-50071"]  # 1003 is the overlap
    # page 2 is listed to find the end of the 24 h overlap window, but its older reviews are not opened
    assert "/review_1002.html" not in run2_paths and "/review_1001.html" not in run2_paths
    assert second[-1].cursors[0].value == "2025-03-14T16:30:00+00:00"
    readable = {"1001", "1002", "1003", "1005"}
    assert {i for i in _ids(first) + _ids(second) if "-" not in i} == readable


def test_paging_stops_at_the_first_list_page_that_reaches_the_cursor(
    otzovik_site: ReviewSiteServer, client: PoliteClient
) -> None:
    collector = OtzovikCollector(otzovik_site.url(OTZOVIK_LIST), client, "acme", overlap=timedelta(0))
    saved = {collector.cursor_key: "2025-03-13T00:00:00+00:00"}
    ids = _ids(list(collector.fetch(saved)))

    assert ids == ["1003", "1005", "1005-answer-50071"]  # the whole first page is always re-read
    assert "/reviews/magazin_acme/2/" not in otzovik_site.paths()


def test_rss_second_run_reads_the_new_entry_and_the_overlap(
    feed_site: ReviewSiteServer, client: PoliteClient, caplog: pytest.LogCaptureFixture
) -> None:
    feed_site.set_route("/feeds/acme.xml", "rss/feed_early.xml")
    collector = RssCollector(feed_site.url("/feeds/acme.xml"), client, "acme")
    (first,) = list(collector.fetch({}))
    assert [m.external_id.rsplit("/", 1)[-1] for m in first.mentions] == ["500", "502"]
    saved = {c.key: c.value for c in first.cursors}

    feed_site.set_route("/feeds/acme.xml", "rss/feed.xml")
    with caplog.at_level(logging.ERROR, logger="ingest.reviews"):
        (second,) = list(collector.fetch(saved))

    assert [m.external_id.rsplit("/", 1)[-1] for m in second.mentions] == ["502", "501"]
    assert second.mentions[0].source == "review:127.0.0.1"
    assert "no publication date" in caplog.text  # the broken entry is reported, the others delivered
    assert second.cursors[0].value == "2025-03-14T13:45:00+00:00"


def test_broken_feed_is_logged_and_yields_nothing(
    feed_site: ReviewSiteServer, client: PoliteClient, caplog: pytest.LogCaptureFixture
) -> None:
    collector = RssCollector(feed_site.url("/feeds/broken.xml"), client, "acme")
    with caplog.at_level(logging.ERROR, logger="ingest.reviews"):
        assert list(collector.fetch({})) == []

    assert [type(e) for e in collector.skipped] == [BrokenPayload]
    assert f"review:127.0.0.1: skipped BrokenPayload: {feed_site.url('/feeds/broken.xml')}: not a feed" in (
        caplog.text
    )
