"""Writes and reads of the desk database that the stream, the collectors and the CLI share.

Transactions: every function here works inside the caller's session and never commits; the caller
commits (or rolls back). `persist_batch` is the one exception: it opens, commits and retries a
session of its own and is what the worker's score agent calls to store a batch.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from typing import Any

from sqlalchemy import (
    Boolean,
    String,
    Table,
    and_,
    bindparam,
    case,
    func,
    literal_column,
    or_,
    select,
    true,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError, StatementError
from sqlalchemy.orm import Session, sessionmaker

from core.db.models import Author, CollectorCursor, Mention, Thread, UtcDateTime
from core.db.search_index import index_mentions
from schemas.scored import ScoredMention

log = logging.getLogger(__name__)

_AUTHORS: Table = Author.__table__  # type: ignore[assignment]
_THREADS: Table = Thread.__table__  # type: ignore[assignment]
_MENTIONS: Table = Mention.__table__  # type: ignore[assignment]
_CURSORS: Table = CollectorCursor.__table__  # type: ignore[assignment]


def _insert(session: Session, table: Table) -> Any:
    """The dialect's INSERT (both have ON CONFLICT)."""
    name = session.get_bind().dialect.name
    if name == "postgresql":
        return pg_insert(table)
    if name == "sqlite":
        return sqlite_insert(table)
    raise NotImplementedError(f"unsupported database dialect {name!r}")


# ---------------------------------------------------------------- saving scored mentions


@dataclass
class _ThreadDelta:
    """What the newly inserted mentions of one batch add to one thread."""

    count: int = 0
    first: ScoredMention | None = None
    last_at: datetime | None = None
    last_customer: ScoredMention | None = None
    last_brand_at: datetime | None = None
    max_customer_negativity: float | None = None

    def add(self, m: ScoredMention) -> None:
        self.count += 1
        if self.first is None or m.created_at < self.first.created_at:
            self.first = m
        if self.last_at is None or m.created_at > self.last_at:
            self.last_at = m.created_at
        if m.author.is_brand:
            if self.last_brand_at is None or m.created_at > self.last_brand_at:
                self.last_brand_at = m.created_at
            return
        if self.last_customer is None or m.created_at >= self.last_customer.created_at:
            self.last_customer = m
        if self.max_customer_negativity is None or m.negativity > self.max_customer_negativity:
            self.max_customer_negativity = m.negativity


def save_scored_mentions(session: Session, mentions: Sequence[ScoredMention]) -> int:
    """Store a batch of scored mentions; return how many mention rows were new.

    Idempotent on (source, external_id): replaying a batch inserts nothing and changes no thread.
    Safe with concurrent writers: every insert is INSERT ... ON CONFLICT, thread counters are
    updated from the rows this call really inserted, with relative `SET x = x + n` updates, and
    locks are taken in one global order (authors, threads, mentions, thread updates, each sorted)
    so two workers cannot deadlock. A reply that comes before its post creates the thread; the
    post becomes the root when it arrives (the root is the earliest mention).

    Does not commit: the caller does. On SQLite, call it first in its transaction (its first
    statement is a write, so it waits for the write lock instead of failing on a stale snapshot).
    """
    unique: dict[tuple[str, str], ScoredMention] = {}
    for mention in mentions:
        unique.setdefault((mention.source, mention.external_id), mention)
    if not unique:
        return 0
    batch = [unique[key] for key in sorted(unique)]
    now = datetime.now(UTC)

    author_ids = _upsert_authors(session, batch, now)
    thread_ids = _ensure_threads(session, batch, now)

    rows = [
        _mention_row(m, thread_ids[(m.source, m.thread_key)], author_ids[(m.source, m.author.id)], now)
        for m in batch
    ]
    stmt = _insert(session, _MENTIONS)
    stmt = stmt.on_conflict_do_nothing(index_elements=["source", "external_id"]).returning(
        _MENTIONS.c.id, _MENTIONS.c.source, _MENTIONS.c.external_id
    )
    new_ids = {(row.source, row.external_id): row.id for row in session.execute(stmt, rows)}
    inserted = set(new_ids)
    if not inserted:
        return 0
    # the search index (SQLite's FTS5 rows) commits or rolls back with the mentions
    index_mentions(session, [(new_ids[key], unique[key].text) for key in sorted(inserted)])

    deltas: dict[int, _ThreadDelta] = {}
    for key in sorted(inserted):
        mention = unique[key]
        deltas.setdefault(thread_ids[(mention.source, mention.thread_key)], _ThreadDelta()).add(mention)
    # one statement for all threads, in id order (the global lock order)
    session.execute(
        _THREAD_DELTA_UPDATE,
        [_delta_params(thread_id, deltas[thread_id], now) for thread_id in sorted(deltas)],
    )
    return len(inserted)


def _upsert_authors(
    session: Session, batch: Sequence[ScoredMention], now: datetime
) -> dict[tuple[str, str], int]:
    latest: dict[tuple[str, str], ScoredMention] = {}
    for m in batch:
        key = (m.source, m.author.id)
        if key not in latest or m.collected_at >= latest[key].collected_at:
            latest[key] = m
    rows = [
        {
            "source": source,
            "author_id": author_id,
            "name": m.author.name,
            "handle": m.author.handle,
            "url": m.author.url,
            "followers": m.author.followers,
            "is_brand": m.author.is_brand,
            "created_at": now,
            "updated_at": now,
        }
        for (source, author_id), m in sorted(latest.items())
    ]
    stmt = _insert(session, _AUTHORS)
    stmt = stmt.on_conflict_do_update(
        index_elements=["source", "author_id"],
        set_={
            "name": func.coalesce(stmt.excluded.name, _AUTHORS.c.name),
            "handle": func.coalesce(stmt.excluded.handle, _AUTHORS.c.handle),
            "url": func.coalesce(stmt.excluded.url, _AUTHORS.c.url),
            "followers": func.coalesce(stmt.excluded.followers, _AUTHORS.c.followers),
            "is_brand": stmt.excluded.is_brand,
            "updated_at": stmt.excluded.updated_at,
        },
    ).returning(_AUTHORS.c.id, _AUTHORS.c.source, _AUTHORS.c.author_id)
    return {(row.source, row.author_id): row.id for row in session.execute(stmt, rows)}


def _ensure_threads(
    session: Session, batch: Sequence[ScoredMention], now: datetime
) -> dict[tuple[str, str], int]:
    """Create missing thread rows (empty: counters come from `_THREAD_DELTA_UPDATE`) and return all ids."""
    brands: dict[tuple[str, str], str | None] = {}
    for m in batch:
        key = (m.source, m.thread_key)
        if brands.get(key) is None:
            brands[key] = m.brand
    rows = [
        {
            "source": source,
            "thread_key": thread_key,
            "brand": brand,
            "status": "new",
            "message_count": 0,
            "max_negativity": 0.0,
            "created_at": now,
            "updated_at": now,
        }
        for (source, thread_key), brand in sorted(brands.items())
    ]
    stmt = _insert(session, _THREADS).on_conflict_do_nothing(index_elements=["source", "thread_key"])
    session.execute(stmt, rows)

    by_source: dict[str, list[str]] = {}
    for source, thread_key in brands:
        by_source.setdefault(source, []).append(thread_key)
    ids: dict[tuple[str, str], int] = {}
    for source, keys in by_source.items():
        found = session.execute(
            select(_THREADS.c.id, _THREADS.c.thread_key).where(
                _THREADS.c.source == source, _THREADS.c.thread_key.in_(keys)
            )
        )
        ids.update({(source, row.thread_key): row.id for row in found})
    return ids


def _mention_row(m: ScoredMention, thread_id: int, author_id: int, now: datetime) -> dict[str, object]:
    return {
        "source": m.source,
        "external_id": m.external_id,
        "thread_id": thread_id,
        "thread_key": m.thread_key,
        "parent_external_id": m.parent_external_id,
        "author_id": author_id,
        "is_brand": m.author.is_brand,
        "url": m.url,
        "text": m.text,
        "lang": m.lang,
        "created_at": m.created_at,
        "collected_at": m.collected_at,
        "scored_at": m.scored_at,
        "stored_at": now,
        "brand": m.brand,
        "rating": m.rating,
        "likes": m.metrics.likes,
        "reposts": m.metrics.reposts,
        "replies": m.metrics.replies,
        "views": m.metrics.views,
        "label": m.label,
        "negativity": m.negativity,
        "prob_negative": m.probs.negative,
        "prob_neutral": m.probs.neutral,
        "prob_positive": m.probs.positive,
        "model_version": m.model_version,
        "topics": list(m.topics),
        "duplicate_of": m.duplicate_of,
    }


def _delta_params(thread_id: int, delta: _ThreadDelta, now: datetime) -> dict[str, Any]:
    """The bound values of `_THREAD_DELTA_UPDATE` for one thread. An absent customer or brand
    message is a False flag; its time and negativity then hold placeholders the statement ignores
    (a NULL parameter would need a type PostgreSQL cannot infer in `IS NULL`)."""
    assert delta.first is not None and delta.last_at is not None
    first, customer = delta.first, delta.last_customer
    brand_at = delta.last_brand_at
    return {
        "d_id": thread_id,
        "d_count": delta.count,
        "d_first_at": first.created_at,
        "d_first_id": first.external_id,
        "d_first_lang": first.lang,
        "d_first_brand": first.brand,
        "d_last_at": delta.last_at,
        "d_now": now,
        "d_has_customer": customer is not None,
        "d_customer_at": customer.created_at if customer is not None else now,
        "d_customer_negativity": customer.negativity if customer is not None else 0.0,
        "d_max_negativity": delta.max_customer_negativity or 0.0,
        # a new customer message after the brand's last answer reopens the case
        "d_may_reopen": customer is not None and (brand_at is None or brand_at < customer.created_at),
        "d_has_brand": brand_at is not None,
        "d_brand_at": brand_at if brand_at is not None else now,
        # the brand's own account answered (in or outside the desk): the customer has the word
        "d_may_answer": brand_at is not None and (customer is None or customer.created_at <= brand_at),
    }


def _constant(value: str) -> Any:
    """A string written into the SQL: executemany takes no expanding or per-statement parameters."""
    return literal_column("'" + value.replace("'", "''") + "'", String())


def _status_in(column: Any, *statuses: str) -> Any:
    return or_(*(column == _constant(status) for status in statuses))


def _thread_delta_update() -> Any:
    """One relative UPDATE of a thread by `_delta_params`, compiled once and run for every thread
    of a batch in one executemany: it corrects whatever other writers did to the row meanwhile.

    The SET expressions read the row as it is when the lock is granted (PostgreSQL re-evaluates
    them on the newest version; SQLite has one writer at a time), never a stale copy; all of them
    read the row's old values.
    """
    t = _THREADS.c

    def at(name: str) -> Any:
        return bindparam(name, type_=UtcDateTime())

    def flag(name: str) -> Any:
        return bindparam(name, type_=Boolean())

    def later_of(column: Any, given: Any, when: Any) -> Any:
        return case((and_(when, or_(column.is_(None), column < given)), given), else_=column)

    first_at, customer_at, brand_at = at("d_first_at"), at("d_customer_at"), at("d_brand_at")
    has_customer, has_brand = flag("d_has_customer"), flag("d_has_brand")
    becomes_root = or_(t.first_message_at.is_(None), t.first_message_at > first_at)
    reopens = and_(
        flag("d_may_reopen"),
        _status_in(t.status, "waiting", "resolved", "closed"),
        or_(t.last_brand_message_at.is_(None), t.last_brand_message_at < customer_at),
        or_(t.last_customer_message_at.is_(None), t.last_customer_message_at <= customer_at),
    )
    answered = and_(
        flag("d_may_answer"),
        _status_in(t.status, "new", "open"),
        or_(t.last_customer_message_at.is_(None), t.last_customer_message_at <= brand_at),
        or_(t.last_brand_message_at.is_(None), t.last_brand_message_at <= brand_at),
    )
    customer_is_latest = and_(
        has_customer,
        or_(t.last_customer_message_at.is_(None), t.last_customer_message_at <= customer_at),
    )
    return (
        update(_THREADS)
        .where(t.id == bindparam("d_id"))
        .values(
            message_count=t.message_count + bindparam("d_count"),
            first_message_at=case((becomes_root, first_at), else_=t.first_message_at),
            root_external_id=case((becomes_root, bindparam("d_first_id")), else_=t.root_external_id),
            lang=case((becomes_root, bindparam("d_first_lang")), else_=t.lang),
            brand=func.coalesce(t.brand, bindparam("d_first_brand")),
            last_message_at=later_of(t.last_message_at, at("d_last_at"), true()),
            updated_at=at("d_now"),
            last_customer_message_at=later_of(t.last_customer_message_at, customer_at, has_customer),
            max_negativity=later_of(t.max_negativity, bindparam("d_max_negativity"), has_customer),
            last_negativity=case(
                (customer_is_latest, bindparam("d_customer_negativity")), else_=t.last_negativity
            ),
            last_brand_message_at=later_of(t.last_brand_message_at, brand_at, has_brand),
            status=case((answered, _constant("waiting")), (reopens, _constant("open")), else_=t.status),
        )
        .execution_options(synchronize_session=False)
    )


_THREAD_DELTA_UPDATE = _thread_delta_update()


_RETRYABLE_PGCODES = frozenset({"40001", "40P01"})  # serialization failure, deadlock detected


def persist_batch(
    session_factory: sessionmaker[Session], mentions: Sequence[ScoredMention], *, attempts: int = 5
) -> int:
    """`save_scored_mentions` in a transaction of its own, committed, retried on lock conflicts.

    Returns the number of new mention rows. Retrying is safe because the save is idempotent.
    """
    for attempt in range(1, attempts + 1):
        try:
            with session_factory() as session, session.begin():
                return save_scored_mentions(session, mentions)
        except DBAPIError as exc:
            code = getattr(exc.orig, "sqlstate", None)
            locked = "database is locked" in str(exc.orig)
            if attempt == attempts or not (code in _RETRYABLE_PGCODES or locked):
                raise
            log.warning("persist attempt %d failed (%s), retrying", attempt, code or "locked")
            time.sleep(0.05 * attempt)
    raise AssertionError("unreachable")


def is_poison(exc: BaseException) -> bool:
    """Whether a failed write is caused by the data itself (a value the database refuses), not by
    the database's state.

    Poison: a refused value or constraint (DataError, IntegrityError; a value the driver could not
    bind: a StatementError that wraps no driver error, OverflowError). Writing the same rows again
    fails again, so the caller narrows the batch down to the rows at fault and sets them aside.
    Everything else (OperationalError: connection lost, lock or statement timeout, the database
    shutting down; anything unknown) is transient: the caller pauses and retries the whole batch.
    """
    if isinstance(exc, DataError | IntegrityError):
        return True
    if isinstance(exc, DBAPIError):
        return False
    return isinstance(exc, StatementError | OverflowError)


# ---------------------------------------------------------------- export


def _iso(value: datetime | None, zone: tzinfo = UTC) -> str | None:
    """ISO 8601 in `zone` with its offset (UTC as Z): the export shows the desk's local times."""
    if value is None:
        return None
    local = value.astimezone(zone).isoformat()
    return local.replace("+00:00", "Z") if zone is UTC else local


def iter_mention_rows(
    session: Session, *, batch_size: int = 1000, zone: tzinfo = UTC
) -> Iterator[dict[str, object]]:
    """Every mention as a flat dict for `mentiondesk export`, oldest first, streamed."""
    m, a = Mention, Author
    stmt = (
        select(
            m.source,
            m.external_id,
            m.thread_key,
            m.parent_external_id,
            m.created_at,
            m.collected_at,
            m.scored_at,
            m.text,
            m.lang,
            m.brand,
            m.rating,
            m.label,
            m.negativity,
            m.prob_negative,
            m.prob_neutral,
            m.prob_positive,
            m.model_version,
            m.topics,
            m.duplicate_of,
            m.url,
            m.is_brand,
            m.likes,
            m.reposts,
            m.replies,
            m.views,
            a.author_id.label("author_id"),
            a.name.label("author_name"),
            a.handle.label("author_handle"),
            a.followers.label("author_followers"),
        )
        .join(a, a.id == m.author_id)
        .order_by(m.created_at, m.id)
        .execution_options(yield_per=batch_size)
    )
    for row in session.execute(stmt):
        out = dict(row._mapping)
        for name in ("created_at", "collected_at", "scored_at"):
            out[name] = _iso(out[name], zone)
        out["topics"] = list(out["topics"] or [])
        yield out


def iter_thread_rows(
    session: Session, *, batch_size: int = 1000, zone: tzinfo = UTC
) -> Iterator[dict[str, object]]:
    """Every thread as a flat dict for `mentiondesk export`, oldest first, streamed."""
    t, root = Thread, Mention
    stmt = (
        select(
            t.thread_key,
            t.source,
            t.brand,
            t.status,
            t.assigned_to,
            t.message_count,
            t.first_message_at,
            t.last_message_at,
            t.last_customer_message_at,
            t.last_brand_message_at,
            t.max_negativity,
            t.last_negativity,
            t.lang,
            t.root_external_id,
            root.text.label("root_text"),
        )
        .outerjoin(root, and_(root.source == t.source, root.external_id == t.root_external_id))
        .order_by(t.first_message_at, t.id)
        .execution_options(yield_per=batch_size)
    )
    for row in session.execute(stmt):
        out = dict(row._mapping)
        for name in (
            "first_message_at",
            "last_message_at",
            "last_customer_message_at",
            "last_brand_message_at",
        ):
            out[name] = _iso(out[name], zone)
        yield out


def count_mentions(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(_MENTIONS)) or 0)


# ---------------------------------------------------------------- collector cursors


def get_cursor(session: Session, collector: str, key: str) -> str | None:
    """The saved position of `collector` for `key` (e.g. a group id), or None if it never ran."""
    return session.scalar(
        select(_CURSORS.c.value).where(_CURSORS.c.collector == collector, _CURSORS.c.key == key)
    )


def set_cursor(session: Session, collector: str, key: str, value: str) -> None:
    """Save a collector's position (upsert). Does not commit."""
    stmt = _insert(session, _CURSORS).values(
        collector=collector, key=key, value=value, updated_at=datetime.now(UTC)
    )
    stmt = stmt.on_conflict_do_update(
        index_elements=["collector", "key"],
        set_={"value": stmt.excluded.value, "updated_at": stmt.excluded.updated_at},
    )
    session.execute(stmt)
