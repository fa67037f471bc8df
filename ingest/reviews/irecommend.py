"""irecommend.ru: a product's list is /content/<slug> (then ?page=1, ?page=2 ... as Drupal pages),
each review has a slug URL and a node id (the page's shortlink /node/<id>). A shop's official
representative answers in the comments, marked "official-reply"."""

from __future__ import annotations

import re
from datetime import datetime
from urllib.parse import urljoin

from bs4 import Tag

from ingest.errors import BrokenPayload
from ingest.reviews.model import ListPage, OfficialAnswer, ParsedReview, ReviewTeaser
from ingest.reviews.paged import PagedReviewCollector
from ingest.reviews.parsing import (
    attr,
    author_from_link,
    element_text,
    parse_ru_datetime,
    soup_of,
    stars_to_rating,
)

SITE = "irecommend.ru"
_NODE_ID = re.compile(r"/node/(\d+)")
_STATIC_STARS = re.compile(r"fivestarWidgetStatic-(\d+)")


def _broken(url: str, why: str) -> BrokenPayload:
    return BrokenPayload(f"review:{SITE}", f"{url}: {why}")


def parse_list_page(html: str, url: str, now: datetime) -> ListPage:
    """Teasers of one list page, newest first, and the next page's URL."""
    soup = soup_of(html)
    listing = soup.select_one("ul.list-comments")
    if listing is None:
        raise _broken(url, "no review list on the page (layout changed or a captcha page?)")
    teasers: list[ReviewTeaser] = []
    for item in listing.select("div.smTeaser"):
        href = attr(item.select_one("a.reviewTextSnippet") or item.select_one(".reviewTitle a"), "href")
        if href is None:
            continue
        review_url = urljoin(url, href)
        created = item.select_one(".created")
        when = parse_ru_datetime(created.get_text(" ", strip=True), now) if created else None
        teasers.append(ReviewTeaser(review_url, review_url, when))
    next_href = attr(soup.select_one("ul.pager li.pager-next a"), "href")
    return ListPage(tuple(teasers), urljoin(url, next_href) if next_href else None)


def parse_review_page(html: str, url: str, now: datetime) -> ParsedReview:
    """One review page; BrokenPayload names what is missing."""
    soup = soup_of(html)
    review = soup.select_one("div.reviewBlock")
    if review is None:
        raise _broken(url, "no review block (layout changed or a captcha page?)")
    node = _NODE_ID.search(attr(soup.select_one("link[rel=shortlink]"), "href") or "")
    if node is None:
        raise _broken(url, "no review id (shortlink /node/<id>)")
    body_tag = review.select_one("[itemprop=reviewBody]")
    if body_tag is None:
        raise _broken(url, "no review body")
    created_at = _review_date(review, now)
    if created_at is None:
        raise _broken(url, "no readable review date")
    heading = review.select_one(".reviewTitle")
    return ParsedReview(
        review_id=node[1],
        url=url,
        author=author_from_link(review.select_one(".authorName a"), url),
        title=heading.get_text(" ", strip=True) if heading else "",
        body=_body(review, body_tag),
        rating=_rating(review),
        created_at=created_at,
        answer=_official_answer(soup.select_one("#comments .official-reply"), url, now),
    )


def _body(review: Tag, body_tag: Tag) -> str:
    """The review text, then its pros and cons lists as "Достоинства: a, b" lines."""
    lines = [element_text(body_tag)]
    for css, label in (("div.plus", "Достоинства"), ("div.minus", "Недостатки")):
        items = [li.get_text(" ", strip=True) for li in review.select(f"{css} li")]
        if items:
            lines.append(f"{label}: {', '.join(items)}")
    verdict = review.select_one(".verdict")
    if verdict is not None:
        lines.append(f"Общее впечатление: {verdict.get_text(' ', strip=True)}")
    return "\n".join(line for line in lines if line)


def _review_date(review: Tag, now: datetime) -> datetime | None:
    stamp = attr(review.select_one("meta[itemprop=datePublished]"), "content")
    if stamp and (parsed := parse_ru_datetime(stamp, now)) is not None:
        return parsed
    shown = review.select_one(".dtreviewed")
    return parse_ru_datetime(shown.get_text(" ", strip=True), now) if shown else None


def _rating(review: Tag) -> float | None:
    stars = review.select_one(".starsRating")
    if stars is None:
        return None
    value = attr(stars.select_one("meta[itemprop=ratingValue]"), "content")
    if value is None:
        match = _STATIC_STARS.search(attr(stars, "class") or "")
        value = match[1] if match else None
    best = attr(stars.select_one("meta[itemprop=bestRating]"), "content") or "5"
    return stars_to_rating(value, float(best))


def _official_answer(comment: Tag | None, url: str, now: datetime) -> OfficialAnswer | None:
    if comment is None:
        return None
    text = element_text(comment.select_one(".comment-text"))
    anchor = attr(comment, "id") or ""
    if not text or not anchor:
        return None
    link = comment.select_one(".comment-author a")
    posted = comment.select_one(".comment-date")
    return OfficialAnswer(
        answer_id=anchor.removeprefix("comment-"),
        anchor=anchor,
        author=author_from_link(link, url, is_brand=True),
        text=text,
        created_at=parse_ru_datetime(posted.get_text(" ", strip=True), now) if posted else None,
    )


class IrecommendCollector(PagedReviewCollector):
    """Reviews of one irecommend.ru product or shop page."""

    site = SITE

    def parse_list(self, html: str, url: str, now: datetime) -> ListPage:
        return parse_list_page(html, url, now)

    def parse_review(self, html: str, url: str, now: datetime) -> ParsedReview:
        return parse_review_page(html, url, now)
