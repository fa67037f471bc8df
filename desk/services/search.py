"""Search across threads and mentions, with Russian and English word forms.

`search(session, query, filters)` finds the mentions whose text holds the query's words in any
form ("доставку" finds "доставка", "deliveries" finds "delivery"), keeps those that pass the filters
and returns their threads, best match first and newest first on ties, each with its best matching
mentions. The query syntax is that of `core.search_text.parse_query`; no input raises: one with
nothing to look for (only signs, emoji or exclusions) gives an empty result saying why.

PostgreSQL matches the stored `to_tsvector('russian', text)` (GIN-indexed) against `websearch_to_tsquery`;
SQLite matches its FTS5 table of stems (core.db.search_index). Ranks: `ts_rank` and FTS5's bm25
(negated, so that higher is better on both).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final

from sqlalchemy import (
    ColumnElement,
    Float,
    Integer,
    Select,
    and_,
    column,
    func,
    literal_column,
    select,
    table,
)
from sqlalchemy.orm import Session

from core.db.models import Author, Mention, Thread
from core.db.models_search import ThreadTag
from core.db.search_index import FTS_TABLE, PG_CONFIG, PG_VECTOR_COLUMN
from core.i18n import N_
from core.search_text import ParsedQuery, parse_query, stem, words

DEFAULT_LIMIT: Final = 50
MENTIONS_PER_THREAD: Final = 3
SNIPPET_CHARS: Final = 240
NOTHING_TO_SEARCH: Final = N_("Type a word to search for: signs, emoji and exclusions alone find nothing.")


@dataclass(frozen=True)
class SearchFilters:
    """Thread filters (brand, source, status, owner, tag: any of the values given) and mention
    filters (the matching mention's sentiment label, and `since <= created_at < until`)."""

    brands: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()
    owners: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    labels: tuple[str, ...] = ()
    since: datetime | None = None
    until: datetime | None = None

    def __post_init__(self) -> None:
        for bound in (self.since, self.until):
            if bound is not None and bound.tzinfo is None:
                raise ValueError("search dates must be timezone-aware")  # a programming error


@dataclass(frozen=True, slots=True)
class MentionHit:
    mention_id: int
    created_at: datetime
    author: str | None
    is_brand: bool
    label: str
    negativity: float
    snippet: str  # the text around the first matching word, at most SNIPPET_CHARS


@dataclass(frozen=True, slots=True)
class ThreadHit:
    thread_id: int
    source: str
    brand: str | None
    status: str
    owner: str | None
    last_message_at: datetime | None
    score: float
    matches: int  # matching mentions in the thread (after the filters)
    mentions: tuple[MentionHit, ...]
    tags: tuple[str, ...] = field(default=())


@dataclass(frozen=True)
class SearchResults:
    query: str
    threads: tuple[ThreadHit, ...] = ()
    more: bool = False  # more threads matched than were returned
    problem: str | None = None  # why nothing was searched (the query had nothing to look for)


def search(
    session: Session, query: str, filters: SearchFilters | None = None, *, limit: int = DEFAULT_LIMIT
) -> SearchResults:
    """Threads whose mentions match `query` and pass `filters`, best first (see the module doc)."""
    filters = filters or SearchFilters()
    parsed = parse_query(query)
    if parsed.empty:
        return SearchResults(query=query, problem=NOTHING_TO_SEARCH)
    dialect = session.get_bind().dialect.name
    hits = _pg_hits(parsed) if dialect == "postgresql" else _sqlite_hits(parsed)
    matched = _matched(hits, filters).cte("matched")
    top = (
        select(
            matched.c.thread_id,
            func.max(matched.c.score).label("best"),
            func.count().label("n"),
            func.max(matched.c.thread_last).label("thread_last"),
        )
        .group_by(matched.c.thread_id)
        .order_by(
            func.max(matched.c.score).desc(),
            func.max(matched.c.thread_last).desc(),
            matched.c.thread_id.desc(),
        )
        .limit(limit + 1)
        .cte("top")
    )
    position = (
        func.row_number()
        .over(
            partition_by=matched.c.thread_id,
            order_by=(matched.c.score.desc(), matched.c.created_at.desc(), matched.c.mention_id.desc()),
        )
        .label("position")
    )
    ranked = (
        select(matched.c.thread_id, matched.c.mention_id, position)
        .where(matched.c.thread_id.in_(select(top.c.thread_id)))
        .subquery("ranked")
    )
    stmt = (
        select(top.c.thread_id, top.c.best, top.c.n, ranked.c.mention_id)
        .join(ranked, ranked.c.thread_id == top.c.thread_id)
        .where(ranked.c.position <= MENTIONS_PER_THREAD)
        .order_by(top.c.best.desc(), top.c.thread_last.desc(), top.c.thread_id.desc(), ranked.c.position)
    )
    order: list[int] = []
    found: dict[int, tuple[float, int, list[int]]] = {}
    for row in session.execute(stmt):
        if row.thread_id not in found:
            order.append(row.thread_id)
            found[row.thread_id] = (float(row.best), int(row.n), [])
        found[row.thread_id][2].append(row.mention_id)
    more = len(order) > limit
    order = order[:limit]
    threads = _threads(session, order, found, parsed)
    return SearchResults(query=query, threads=tuple(threads), more=more)


def _hit_columns() -> list[Any]:
    m = Mention
    return [m.id.label("mention_id"), m.thread_id, m.created_at, m.label]


def _sqlite_hits(parsed: ParsedQuery) -> Select[Any]:
    fts = table(FTS_TABLE, column("rowid", Integer))
    this: ColumnElement[Any] = literal_column(FTS_TABLE)
    return (
        select(*_hit_columns(), (-func.bm25(this, type_=Float)).label("score"))
        .select_from(fts)
        .join(Mention, Mention.id == fts.c.rowid)
        .where(this.op("MATCH")(parsed.fts5()))
    )


def _pg_hits(parsed: ParsedQuery) -> Select[Any]:
    # the stored, GIN-indexed to_tsvector('russian', text) (core.db.search_index)
    vector: ColumnElement[Any] = literal_column(f"mentions.{PG_VECTOR_COLUMN}")
    tsquery = func.websearch_to_tsquery(literal_column(f"'{PG_CONFIG}'"), parsed.websearch())
    # normalisation 1: divided by 1 + log(length), so a word lost in a long text ranks lower (as bm25)
    score = func.ts_rank(vector, tsquery, 1, type_=Float).label("score")
    return select(*_hit_columns(), score).select_from(Mention).where(vector.op("@@")(tsquery))


def _matched(hits: Select[Any], filters: SearchFilters) -> Select[Any]:
    """The matching mentions (id, score, thread, time) that pass the filters."""
    h = hits.subquery("hits")
    t = Thread
    stmt = select(
        h.c.mention_id,
        h.c.score,
        h.c.thread_id,
        h.c.created_at,
        t.last_message_at.label("thread_last"),
    ).join(t, t.id == h.c.thread_id)
    conditions: list[ColumnElement[bool]] = []
    for values, col in (
        (filters.brands, t.brand),
        (filters.sources, t.source),
        (filters.statuses, t.status),
        (filters.owners, t.assigned_to),
        (filters.labels, h.c.label),
    ):
        if values:
            conditions.append(col.in_(values))
    if filters.tags:
        tagged = select(ThreadTag.thread_id).where(ThreadTag.tag.in_(filters.tags))
        conditions.append(t.id.in_(tagged))
    if filters.since is not None:
        conditions.append(h.c.created_at >= filters.since)
    if filters.until is not None:
        conditions.append(h.c.created_at < filters.until)
    return stmt.where(and_(*conditions)) if conditions else stmt


def _threads(
    session: Session,
    order: Sequence[int],
    found: dict[int, tuple[float, int, list[int]]],
    parsed: ParsedQuery,
) -> list[ThreadHit]:
    if not order:
        return []
    threads = {t.id: t for t in session.scalars(select(Thread).where(Thread.id.in_(order)))}
    mention_ids = [mid for tid in order for mid in found[tid][2]]
    rows = session.execute(
        select(
            Mention.id,
            Mention.created_at,
            Mention.is_brand,
            Mention.label,
            Mention.negativity,
            Mention.text,
            func.coalesce(Author.name, Author.handle, Author.author_id).label("author"),
        )
        .join(Author, Author.id == Mention.author_id)
        .where(Mention.id.in_(mention_ids))
    )
    mentions = {row.id: row for row in rows}
    tags: dict[int, list[str]] = {}
    for thread_id, tag in session.execute(
        select(ThreadTag.thread_id, ThreadTag.tag)
        .where(ThreadTag.thread_id.in_(order))
        .order_by(ThreadTag.tag)
    ):
        tags.setdefault(thread_id, []).append(tag)
    stems = _query_stems(parsed)
    out = []
    for thread_id in order:
        thread = threads[thread_id]
        best, count, ids = found[thread_id]
        out.append(
            ThreadHit(
                thread_id=thread_id,
                source=thread.source,
                brand=thread.brand,
                status=thread.status,
                owner=thread.assigned_to,
                last_message_at=thread.last_message_at,
                score=best,
                matches=count,
                mentions=tuple(
                    MentionHit(
                        mention_id=row.id,
                        created_at=row.created_at,
                        author=row.author,
                        is_brand=row.is_brand,
                        label=row.label,
                        negativity=row.negativity,
                        snippet=snippet(row.text, stems),
                    )
                    for row in (mentions[mid] for mid in ids)
                ),
                tags=tuple(tags.get(thread_id, ())),
            )
        )
    return out


def _query_stems(parsed: ParsedQuery) -> frozenset[str]:
    return frozenset(
        stem(word) for group in parsed.groups for term in group if not term.exclude for word in term.words
    )


def snippet(text: str, stems: frozenset[str], width: int = SNIPPET_CHARS) -> str:
    """The part of `text` around its first word whose stem is one of `stems` (the start if none)."""
    if len(text) <= width:
        return text
    lowered = text.lower().replace("ё", "е")
    start = 0
    for word in words(lowered[:100_000]):
        if stem(word) in stems:
            start = max(lowered.find(word) - width // 4, 0)
            break
    piece = text[start : start + width]
    return ("…" if start else "") + piece + ("…" if start + width < len(text) else "")
