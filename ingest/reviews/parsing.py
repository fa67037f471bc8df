"""Parsing helpers shared by the review-site adapters: Russian dates in Moscow time, star ratings,
clean text out of HTML fragments."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from urllib.parse import urljoin, urlsplit
from zoneinfo import ZoneInfo

from bs4 import BeautifulSoup, Tag

from schemas.mention import Author

#: Russian review sites print local Moscow time without saying so.
MOSCOW = ZoneInfo("Europe/Moscow")

#: the first three letters of a month name, any case ("марта", "Март", "мая", "сент.")
_MONTHS = {
    "янв": 1,
    "фев": 2,
    "мар": 3,
    "апр": 4,
    "мая": 5,
    "май": 5,
    "июн": 6,
    "июл": 7,
    "авг": 8,
    "сен": 9,
    "окт": 10,
    "ноя": 11,
    "дек": 12,
}

_TIME = r"(?:\s*(?:,|в|-|—)?\s*(?P<hh>\d{1,2}):(?P<mm>\d{2}))?"
_WORDS_DATE = re.compile(r"^(?P<d>\d{1,2})\s+(?P<month>[а-яё]+)\.?\s+(?P<y>\d{4})(?:\s*г\.?)?" + _TIME + r"$")
_DOTTED_DATE = re.compile(r"^(?P<d>\d{1,2})\.(?P<m>\d{1,2})\.(?P<y>\d{2,4})" + _TIME + r"$")
_RELATIVE = re.compile(r"^(?P<word>сегодня|вчера|позавчера)" + _TIME + r"$")
_RELATIVE_DAYS = {"сегодня": 0, "вчера": 1, "позавчера": 2}


def _month_number(word: str) -> int | None:
    return _MONTHS.get(word.lower()[:3])


def _moscow_to_utc(day: date, hh: str | None, mm: str | None) -> datetime:
    clock = time(int(hh), int(mm)) if hh is not None and mm is not None else time(0, 0)
    return datetime.combine(day, clock, tzinfo=MOSCOW).astimezone(UTC)


def parse_ru_datetime(text: str, now: datetime) -> datetime | None:
    """A review site's date as UTC, or None when the text is not a date we know.

    Understands ISO 8601 (an offset-less one is Moscow time), "12 марта 2025", "12 марта 2025 г.,
    14:05", "12.03.2025 14:05", "сегодня в 09:10", "вчера", "позавчера". A date without a time
    is midnight Moscow time. `now` (UTC-aware) anchors the relative words."""
    cleaned = " ".join(text.replace("\xa0", " ").split()).lower()
    if not cleaned:
        return None
    iso = _parse_iso(cleaned)
    if iso is not None:
        return iso
    if match := _RELATIVE.match(cleaned):
        today = now.astimezone(MOSCOW).date()
        day = today - timedelta(days=_RELATIVE_DAYS[match["word"]])
        return _moscow_to_utc(day, match["hh"], match["mm"])
    if match := _WORDS_DATE.match(cleaned):
        month = _month_number(match["month"])
        if month is None:
            return None
        return _safe_date(int(match["y"]), month, int(match["d"]), match["hh"], match["mm"])
    if match := _DOTTED_DATE.match(cleaned):
        year = int(match["y"])
        year = year + 2000 if year < 100 else year
        return _safe_date(year, int(match["m"]), int(match["d"]), match["hh"], match["mm"])
    return None


def _safe_date(year: int, month: int, day: int, hh: str | None, mm: str | None) -> datetime | None:
    try:
        return _moscow_to_utc(date(year, month, day), hh, mm)
    except ValueError:
        return None


def _parse_iso(text: str) -> datetime | None:
    if not re.match(r"^\d{4}-\d{2}-\d{2}", text):
        return None
    try:
        parsed = datetime.fromisoformat(text.upper().replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=MOSCOW)
    return parsed.astimezone(UTC)


def stars_to_rating(value: str | float | int | None, best: float = 5.0) -> float | None:
    """A star rating on the site's scale (1..5) as mentiondesk's 0..10 scale; None if unreadable."""
    if value is None:
        return None
    try:
        stars = float(str(value).strip().replace(",", "."))
    except ValueError:
        return None
    if not 0 <= stars <= best or best <= 0:
        return None
    return round(stars * 10.0 / best, 2)


def element_text(element: Tag | None) -> str:
    """The visible text of an HTML fragment: paragraphs and <br> become line breaks, runs of blanks
    collapse, empty lines go."""
    if element is None:
        return ""
    fragment = BeautifulSoup(str(element), "lxml")
    for br in fragment.find_all("br"):
        br.replace_with("\n")
    for block in fragment.find_all(["p", "li", "div", "h1", "h2", "h3"]):
        block.insert_before("\n")
        block.insert_after("\n")
    lines = (" ".join(line.split()) for line in fragment.get_text().splitlines())
    return "\n".join(line for line in lines if line)


def strip_label(text: str, *labels: str) -> str:
    """`text` without a leading label such as "Достоинства:"."""
    for label in labels:
        if text.lower().startswith(label.lower()):
            return text[len(label) :].lstrip(" :\n")
    return text


def soup_of(html: str) -> BeautifulSoup:
    return BeautifulSoup(html, "lxml")


def attr(element: Tag | None, name: str) -> str | None:
    """An attribute as one string (bs4 gives lists for multi-valued ones such as class)."""
    if element is None:
        return None
    value = element.get(name)
    if value is None:
        return None
    return " ".join(value) if isinstance(value, list) else str(value)


def profile_id(href: str) -> str:
    """The last path segment of a profile link: "/profile/ivan_petrov" -> "ivan_petrov"."""
    return urlsplit(href).path.rstrip("/").rsplit("/", 1)[-1]


def author_from_link(link: Tag | None, page_url: str, *, is_brand: bool = False) -> Author:
    """The author behind a profile link: id = the profile slug, name = the link text."""
    href = attr(link, "href")
    if link is None or href is None:
        return Author(id="anonymous", is_brand=is_brand)
    return Author(
        id=profile_id(href),
        name=link.get_text(" ", strip=True) or None,
        url=urljoin(page_url, href),
        is_brand=is_brand,
    )
