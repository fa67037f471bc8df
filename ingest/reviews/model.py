"""What the site parsers return, and how a parsed review becomes Mentions: the review itself and,
when the page shows one, the shop's official answer as the brand's reply in the same thread."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from schemas import Mention
from schemas.mention import Author


@dataclass(frozen=True, slots=True)
class ReviewTeaser:
    """One entry of a product's review list: enough to decide whether to open the review page."""

    key: str  # the review id when the list shows it, else the review URL
    url: str
    created_at: datetime | None


@dataclass(frozen=True, slots=True)
class ListPage:
    teasers: tuple[ReviewTeaser, ...]
    next_url: str | None


@dataclass(frozen=True, slots=True)
class OfficialAnswer:
    answer_id: str
    anchor: str  # the fragment that points at the answer on the review page
    author: Author
    text: str
    created_at: datetime | None


@dataclass(frozen=True, slots=True)
class ParsedReview:
    review_id: str
    url: str
    author: Author
    title: str
    body: str
    rating: float | None
    created_at: datetime
    answer: OfficialAnswer | None = None

    @property
    def text(self) -> str:
        """Title and body together: the title often carries the whole complaint."""
        return f"{self.title}\n\n{self.body}" if self.title else self.body

    def to_mentions(self, site: str, brand: str | None) -> list[Mention]:
        """The review, then the official answer (if any) as a brand reply under it."""
        source = f"review:{site}"
        thread_key = f"{source}:{self.review_id}"
        review = Mention(
            source=source,
            external_id=self.review_id,
            thread_key=thread_key,
            url=self.url,
            author=self.author,
            text=self.text,
            created_at=self.created_at,
            brand=brand,
            rating=self.rating,
        )
        if self.answer is None:
            return [review]
        answer = Mention(
            source=source,
            external_id=f"{self.review_id}-answer-{self.answer.answer_id}",
            thread_key=thread_key,
            parent_external_id=self.review_id,
            url=f"{self.url}#{self.answer.anchor}",
            author=self.answer.author,
            text=self.answer.text,
            created_at=self.answer.created_at or self.created_at,
            brand=brand,
        )
        return [review, answer]
