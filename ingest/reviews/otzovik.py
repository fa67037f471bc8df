"""otzovik.com: a product's list is /reviews/<slug>/ (then /reviews/<slug>/2/ ...), each review is
/review_<id>.html. A shop's official representative answers in the comments, marked "official"."""

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
    strip_label,
)

SITE = "otzovik.com"
_REVIEW_ID = re.compile(r"/review_(\d+)\.html")


def _broken(url: str, why: str) -> BrokenPayload:
    return BrokenPayload(f"review:{SITE}", f"{url}: {why}")


def parse_list_page(html: str, url: str, now: datetime) -> ListPage:
    """Teasers of one list page, newest first, and the next page's URL."""
    soup = soup_of(html)
    chunk = soup.select_one("div.review-list-chunk")
    if chunk is None:
        raise _broken(url, "no review list on the page (layout changed or a captcha page?)")
    teasers: list[ReviewTeaser] = []
    for item in chunk.select("div.item"):
        link = item.select_one("a.review-read-link") or item.select_one("a.review-title")
        href = attr(link, "href")
        if href is None:
            continue
        match = _REVIEW_ID.search(href)
        if match is None:
            continue
        posted = item.select_one(".review-postdate")
        stamp = attr(posted, "content") or (posted.get_text(" ", strip=True) if posted else "")
        teasers.append(ReviewTeaser(match[1], urljoin(url, href), parse_ru_datetime(stamp, now)))
    next_href = attr(soup.select_one("div.pager a.pager-item.next"), "href")
    return ListPage(tuple(teasers), urljoin(url, next_href) if next_href else None)


def parse_review_page(html: str, url: str, now: datetime) -> ParsedReview:
    """One review page; BrokenPayload names what is missing."""
    soup = soup_of(html)
    match = _REVIEW_ID.search(url) or _REVIEW_ID.search(
        attr(soup.select_one("link[rel=canonical]"), "href") or ""
    )
    if match is None:
        raise _broken(url, "no review id in the URL")
    review = soup.select_one("div.review-contents")
    if review is None:
        raise _broken(url, "no review block (layout changed or a captcha page?)")
    body_tag = review.select_one("div.review-body")
    if body_tag is None:
        raise _broken(url, "no review body")
    created_at = _review_date(review, now)
    if created_at is None:
        raise _broken(url, "no readable review date")
    heading = review.select_one("h1")
    title = strip_label(heading.get_text(" ", strip=True), "Отзыв:") if heading else ""
    parts = [
        " ".join(element_text(review.select_one(css)).split())
        for css in ("div.review-plus", "div.review-minus")
    ]
    pros_cons = "\n".join(part for part in parts if part)
    body = element_text(body_tag)
    return ParsedReview(
        review_id=match[1],
        url=url,
        author=author_from_link(review.select_one(".item-left a.user-login"), url),
        title=title,
        body=f"{pros_cons}\n\n{body}" if pros_cons else body,
        rating=_rating(review),
        created_at=created_at,
        answer=_official_answer(soup.select_one("#comments div.comment.official"), url, now),
    )


def _review_date(review: Tag, now: datetime) -> datetime | None:
    stamp = attr(review.select_one(".review-postdate abbr.value"), "title")
    if stamp and (parsed := parse_ru_datetime(stamp, now)) is not None:
        return parsed
    posted = review.select_one(".review-postdate")
    return parse_ru_datetime(posted.get_text(" ", strip=True), now) if posted else None


def _rating(review: Tag) -> float | None:
    value_tag = review.select_one("[itemprop=ratingValue]")
    if value_tag is None:
        return None
    value = attr(value_tag, "content") or value_tag.get_text(strip=True)
    best = attr(review.select_one("meta[itemprop=bestRating]"), "content") or "5"
    return stars_to_rating(value, float(best))


def _official_answer(comment: Tag | None, url: str, now: datetime) -> OfficialAnswer | None:
    if comment is None:
        return None
    text = element_text(comment.select_one("div.comment-body"))
    anchor = attr(comment, "id") or ""
    if not text or not anchor:
        return None
    posted = comment.select_one(".comment-date")
    return OfficialAnswer(
        answer_id=anchor.removeprefix("comment_"),
        anchor=anchor,
        author=author_from_link(comment.select_one("a.user-login"), url, is_brand=True),
        text=text,
        created_at=parse_ru_datetime(posted.get_text(" ", strip=True), now) if posted else None,
    )


class OtzovikCollector(PagedReviewCollector):
    """Reviews of one otzovik.com product or shop page."""

    site = SITE

    def parse_list(self, html: str, url: str, now: datetime) -> ListPage:
        return parse_list_page(html, url, now)

    def parse_review(self, html: str, url: str, now: datetime) -> ParsedReview:
        return parse_review_page(html, url, now)
