"""The weekly report for brand leads: one ISO week in the desk's calendar zone against the week
before. The most frequent complaint topics (the brands config's topic rules, as the score agent
tagged the mentions, and the model's clusters, as the digest builds them) with their change and
examples; the week's KPIs (desk.services.kpis); CSAT, NPS and response rate against their targets
(desk.services.satisfaction).

A complaint is a customer mention (not by a brand account) labelled negative, counted in the week
of its `created_at`. Clusters are built over both weeks' complaints at once, so a cluster is the
same topic in both weeks and its two counts can be compared; the rule topics need no such step.

Rendering is pure (HTML for the e-mail and the page, plain text for the terminal); every piece of
customer text is escaped, and only http(s) links become links.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.brands import Targets
from core.db.models import Mention
from desk.services.calendar_store import load_calendar
from desk.services.clocks import BusinessCalendar
from desk.services.complaints import Embedder, complaint_clusters
from desk.services.desk_time import zone_name
from desk.services.kpis import Kpis, Period, compute, load_cases, load_clock_events
from desk.services.satisfaction import SatisfactionFigures, summarise
from desk.services.survey_records import load_survey_records

_WEEK = re.compile(r"^(\d{4})-W(\d{2})$")
EXAMPLE_CHARS = 160


# ---------------------------------------------------------------- weeks


def parse_week(week: str) -> tuple[int, int]:
    """("2026-W48") -> (2026, 48); ValueError for anything that is not an existing ISO week."""
    match = _WEEK.match(week.strip())
    if not match:
        raise ValueError(f"not an ISO week: {week!r} (expected YYYY-Www, e.g. 2026-W48)")
    year, number = int(match[1]), int(match[2])
    try:
        date.fromisocalendar(year, number, 1)
    except ValueError as exc:
        raise ValueError(f"not an ISO week: {week!r} ({exc})") from exc
    return year, number


def week_monday(week: str) -> date:
    return date.fromisocalendar(*parse_week(week), 1)


def week_of(day: date) -> str:
    iso = day.isocalendar()
    return f"{iso.year}-W{iso.week:02d}"


def previous_week(week: str) -> str:
    return week_of(week_monday(week) - timedelta(days=7))


def week_bounds(week: str, zone: str) -> tuple[datetime, datetime]:
    """Monday 00:00 to the next Monday 00:00 in `zone`, as UTC."""
    tz = ZoneInfo(zone)
    monday = week_monday(week)
    start = datetime.combine(monday, datetime.min.time(), tzinfo=tz)
    end = datetime.combine(monday + timedelta(days=7), datetime.min.time(), tzinfo=tz)
    return start.astimezone(UTC), end.astimezone(UTC)


def last_complete_week(now: datetime, zone: str) -> str:
    """The ISO week before the one `now` falls in (in `zone`)."""
    return week_of(now.astimezone(ZoneInfo(zone)).date() - timedelta(days=7))


def recent_weeks(now: datetime, zone: str, count: int = 26) -> list[str]:
    """The week of `now` and the `count - 1` before it, newest first."""
    today = now.astimezone(ZoneInfo(zone)).date()
    return [week_of(today - timedelta(days=7 * i)) for i in range(count)]


def report_weeks(session: Session, now: datetime, zone: str, least: int = 12, most: int = 104) -> list[str]:
    """The weeks to offer, newest first: from the week of `now` back to the week of the first
    mention stored (at least `least` weeks, at most `most`)."""
    first = session.scalar(select(func.min(Mention.created_at)))
    today = now.astimezone(ZoneInfo(zone)).date()
    span = least
    if first is not None:
        first_day = (first if first.tzinfo else first.replace(tzinfo=UTC)).astimezone(ZoneInfo(zone)).date()
        monday = today - timedelta(days=today.weekday())
        span = max(least, (monday - (first_day - timedelta(days=first_day.weekday()))).days // 7 + 1)
    return recent_weeks(now, zone, min(span, most))


def known_brands(session: Session) -> list[str]:
    """The brands that have mentions, by name."""
    return sorted(
        b for b in session.scalars(select(Mention.brand).where(Mention.brand.is_not(None)).distinct()) if b
    )


# ---------------------------------------------------------------- the report


@dataclass(frozen=True, slots=True)
class Example:
    text: str  # shortened to EXAMPLE_CHARS
    url: str | None
    source: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class TopicTrend:
    name: str
    kind: Literal["rule", "cluster"]
    count: int  # complaints this week
    previous: int  # complaints the week before
    examples: tuple[Example, ...]  # this week's

    @property
    def change(self) -> int:
        return self.count - self.previous

    @property
    def change_pct(self) -> float | None:
        """The change as a share of the previous week's count; None when there were none."""
        return self.change / self.previous if self.previous else None


@dataclass(frozen=True, slots=True)
class WeeklyReport:
    week: str
    brand: str | None
    zone: str
    start: datetime  # UTC
    end: datetime
    mentions: int  # customer mentions this week
    complaints: int  # of them negative
    previous_mentions: int
    previous_complaints: int
    rule_topics: list[TopicTrend]
    clusters: list[TopicTrend]  # empty without an embedder
    clustered: bool  # an embedder was given
    kpis: Kpis
    previous_kpis: Kpis
    satisfaction: SatisfactionFigures
    previous_satisfaction: SatisfactionFigures
    targets: Targets  # the brand's (core.brands), or the strictest of all brands for all brands

    @property
    def csat_target(self) -> float:
        return self.targets.csat

    @property
    def nps_target(self) -> float:
        return self.targets.nps

    @property
    def previous_week(self) -> str:
        return previous_week(self.week)


@dataclass(frozen=True, slots=True)
class _Row:
    text: str
    url: str | None
    source: str
    created_at: datetime
    negativity: float
    topics: tuple[str, ...]


def _customer_mentions(
    session: Session, start: datetime, end: datetime, brand: str | None
) -> tuple[int, list[_Row]]:
    """(customer mentions, the negative ones) in [start, end); the complaints most negative first."""
    query = select(
        Mention.text, Mention.url, Mention.source, Mention.created_at, Mention.negativity,
        Mention.label, Mention.topics, Mention.id,
    ).where(Mention.created_at >= start, Mention.created_at < end, Mention.is_brand.is_(False))  # fmt: skip
    if brand is not None:
        query = query.where(Mention.brand == brand)
    rows = session.execute(query).all()
    negative = sorted(
        (r for r in rows if r.label == "negative"), key=lambda r: (-r.negativity, r.created_at, r.id)
    )
    return len(rows), [
        _Row(r.text, r.url, r.source, r.created_at, float(r.negativity), tuple(r.topics or ()))
        for r in negative
    ]


def _short(text: str, limit: int = EXAMPLE_CHARS) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def _example(row: _Row) -> Example:
    return Example(_short(row.text), row.url, row.source, row.created_at)


def _examples(rows: list[_Row], limit: int) -> tuple[Example, ...]:
    seen: dict[str, Example] = {}
    for row in rows:
        example = _example(row)
        seen.setdefault(example.text, example)
        if len(seen) == limit:
            break
    return tuple(seen.values())


def rule_topic_trends(
    current: list[_Row], previous: list[_Row], max_topics: int = 8, examples: int = 3
) -> list[TopicTrend]:
    """Rule topics by this week's complaints (then last week's, then name); a topic of last week
    that has none this week is listed after them, with its drop."""
    now_counts = Counter(t for r in current for t in set(r.topics))
    before_counts = Counter(t for r in previous for t in set(r.topics))
    names = sorted(set(now_counts) | set(before_counts), key=lambda t: (-now_counts[t], -before_counts[t], t))
    return [
        TopicTrend(
            name,
            "rule",
            now_counts[name],
            before_counts[name],
            _examples([r for r in current if name in r.topics], examples),
        )
        for name in names[:max_topics]
    ]


def cluster_trends(
    current: list[_Row], previous: list[_Row], embed: Embedder, max_topics: int = 5, examples: int = 3
) -> list[TopicTrend]:
    """Both weeks' complaints clustered together (the digest's clustering), counted per week;
    examples are this week's members closest to the cluster's centre."""
    rows = current + previous
    if not rows:
        return []
    clusters = complaint_clusters([r.text for r in rows], embed, max_topics=max_topics)
    split = len(current)
    trends = [
        TopicTrend(
            c.name,
            "cluster",
            sum(1 for i in c.members if i < split),
            sum(1 for i in c.members if i >= split),
            _examples([rows[i] for i in c.members if i < split], examples),
        )
        for c in clusters
    ]
    return sorted(trends, key=lambda t: (-t.count, -t.previous, t.name))


def week_kpis(
    session: Session,
    start: datetime,
    end: datetime,
    brand: str | None,
    *,
    calendar: BusinessCalendar,
    now: datetime,
) -> Kpis:
    """desk.services.kpis over the week; with a brand, its cases and their clock events only."""
    period = Period(start, end)
    cases = load_cases(session, period, calendar)
    events = load_clock_events(session, period)
    if brand is not None:
        cases = [c for c in cases if c.brand == brand]
        ids = {c.thread_id for c in cases}
        events = [e for e in events if e[0] in ids]
    return compute(cases, calendar, now, [(clock, event) for _, clock, event in events])


def build_weekly_report(
    session: Session,
    week: str,
    brand: str | None = None,
    *,
    now: datetime | None = None,
    calendar: BusinessCalendar | None = None,
    embed: Embedder | None = None,
    targets: Targets | None = None,
    max_topics: int = 8,
    max_clusters: int = 5,
    examples: int = 3,
) -> WeeklyReport:
    """The report of `week` ("2026-W48", in the business calendar's zone) for `brand` (None: all),
    judged against `targets` (desk.services.targets.targets_for; None: the defaults)."""
    calendar = calendar or load_calendar(session, brand)
    now = now or datetime.now(UTC)
    zone = zone_name(calendar.tz)  # the desk's zone (MD_DESK_TIMEZONE, else the calendar's)
    start, end = week_bounds(week, zone)
    before_start, before_end = week_bounds(previous_week(week), zone)
    mentions, current = _customer_mentions(session, start, end, brand)
    previous_mentions, previous = _customer_mentions(session, before_start, before_end, brand)
    return WeeklyReport(
        week=week_of(week_monday(week)),
        brand=brand,
        zone=zone,
        start=start,
        end=end,
        mentions=mentions,
        complaints=len(current),
        previous_mentions=previous_mentions,
        previous_complaints=len(previous),
        rule_topics=rule_topic_trends(current, previous, max_topics, examples),
        clusters=cluster_trends(current, previous, embed, max_clusters, examples) if embed else [],
        clustered=embed is not None,
        kpis=week_kpis(session, start, end, brand, calendar=calendar, now=now),
        previous_kpis=week_kpis(session, before_start, before_end, brand, calendar=calendar, now=now),
        satisfaction=summarise(load_survey_records(session, start, end, brand)),
        previous_satisfaction=summarise(load_survey_records(session, before_start, before_end, brand)),
        targets=targets or Targets(),
    )
