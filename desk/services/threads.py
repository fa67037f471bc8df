"""Case actions: status, assignment, notes, compensation, merge and unmerge, duplicate suggestions.

Each action checks the actor's role, bumps the case's version (so a composer opened before sees
the change) and leaves an audit entry in the same transaction. None of them commits.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import and_, select
from sqlalchemy.orm import Session, aliased

from core.db.models import THREAD_STATUSES, Mention, Thread
from core.db.models_desk import (
    COMPENSATION_KINDS,
    Compensation,
    DeskSetting,
    DeskThread,
    DeskUser,
    ThreadNote,
)
from core.i18n import _, format_decimal
from desk.services import audit, notices
from desk.services.auth import Actor, PermissionDenied, check
from desk.services.calendar_store import load_calendar
from desk.services.case_clock import event, pause, refresh_rank, resume, start_cycle
from desk.services.surveys import SurveyPolicy, ask_after_resolve
from desk.services.thread_view import get_thread, root_author

DUPLICATE_WINDOW = timedelta(days=3)
SIMILARITY = 0.6


def _desk(session: Session, thread_id: int) -> tuple[Thread, DeskThread]:
    thread, desk = get_thread(session, thread_id)
    if desk is None:
        raise LookupError(_("thread {id} is not on the desk yet").format(id=thread_id))
    return thread, desk


def set_status(
    session: Session,
    actor: Actor,
    thread_id: int,
    status: str,
    now: datetime | None = None,
    *,
    surveys: SurveyPolicy | None = None,
) -> None:
    """Move the case to `status`. Resolving it queues its satisfaction survey when `surveys` (the
    brands config's policy) gives its brand and channel one (desk.services.surveys)."""
    check(actor, "thread.status")
    if status not in THREAD_STATUSES or status == "new":
        raise ValueError(_("cannot set status {status!r}").format(status=status))
    now = now or datetime.now(UTC)
    thread, desk = _desk(session, thread_id)
    old = thread.status
    if old == status:
        return
    if status in ("resolved", "closed") and old not in ("resolved", "closed"):
        due = desk.resolution_due
        kind = "hit" if due is None or now <= due or desk.paused_at is not None else "missed"
        if not desk.resolution_missed or kind == "hit":
            event(session, desk, "resolution", kind, due, now)
        desk.paused_at = None
    elif status == "waiting":
        pause(session, desk, now)
    elif status == "open":
        if old in ("resolved", "closed"):
            desk.cycle += 1
            start_cycle(session, desk, now, load_calendar(session, thread.brand, now.date()))
        else:
            resume(session, desk, now)
    thread.status = status
    desk.seen_status = status
    desk.version += 1
    refresh_rank(desk, status, thread.max_negativity)
    audit.record(session, actor.username, "status", thread_id, at=now, old=old, new=status)
    if status == "resolved" and old not in ("resolved", "closed") and surveys is not None:
        ask_after_resolve(session, actor.username, thread, desk, surveys, now)


def assign(session: Session, actor: Actor, thread_ids: Sequence[int], owner: str | None) -> int:
    """Give threads to `owner` (None: unassign). Agents may only take threads for themselves."""
    if owner == actor.username:
        check(actor, "thread.take")
    else:
        check(actor, "thread.assign")
    if owner is not None:
        user = session.get(DeskUser, owner)
        if user is None or not user.active:
            raise ValueError(_("no active user {owner!r}").format(owner=owner))
    changed = 0
    for thread_id in thread_ids:
        thread, desk = _desk(session, thread_id)
        if thread.assigned_to == owner:
            continue
        old = thread.assigned_to
        thread.assigned_to = owner
        desk.version += 1
        audit.record(session, actor.username, "assign", thread_id, old=old, owner=owner)
        if owner is not None and owner != actor.username:  # taking a thread oneself needs no notice
            notices.notify_assigned(session, thread_id, owner, desk.version, datetime.now(UTC))
        changed += 1
    return changed


def add_note(session: Session, actor: Actor, thread_id: int, text: str) -> ThreadNote:
    check(actor, "thread.note")
    if not text.strip():
        raise ValueError(_("an empty note"))
    note = ThreadNote(
        thread_id=thread_id, author=actor.username, text=text.strip(), created_at=datetime.now(UTC)
    )
    session.add(note)
    audit.record(session, actor.username, "note", thread_id)
    return note


COMPENSATION_LIMITS_KEY = "compensation.limits"
ALL_BRANDS = "*"
"""The limits key of threads without a brand, and of brands without a limit of their own."""


class OverCompensationLimit(ValueError):
    """A compensation above its brand's limit."""


def compensation_limits(session: Session) -> dict[str, float]:
    """Brand -> the largest compensation value one grant may have ("*": every other brand)."""
    row = session.get(DeskSetting, COMPENSATION_LIMITS_KEY)
    return {str(k): float(v) for k, v in row.value.items()} if row is not None else {}


def set_compensation_limit(session: Session, actor: Actor, brand: str, limit: float | None) -> None:
    """Set (or with None, remove) a brand's compensation limit; an admin's action (does not commit)."""
    check(actor, "compensation.limits")
    brand = brand.strip()
    if not brand:
        raise ValueError(_("a compensation limit needs a brand (or * for every brand without its own)"))
    if limit is not None and limit < 0:
        raise ValueError(_("a compensation limit cannot be negative"))
    limits = compensation_limits(session)
    old = limits.get(brand)
    if limit is None:
        limits.pop(brand, None)
    else:
        limits[brand] = float(limit)
    row = session.get(DeskSetting, COMPENSATION_LIMITS_KEY)
    now = datetime.now(UTC)
    if row is None:
        session.add(DeskSetting(key=COMPENSATION_LIMITS_KEY, value=limits, updated_at=now))
    else:
        row.value = limits  # a new dict: the JSON column sees the change
        row.updated_at = now
    audit.record(session, actor.username, "compensation_limit", None, at=now, brand=brand, old=old, new=limit)


def _check_limit(session: Session, thread_id: int, value: float) -> None:
    thread = session.get(Thread, thread_id)
    if thread is None:
        raise LookupError(_("no thread {id}").format(id=thread_id))
    limits = compensation_limits(session)
    brand = thread.brand or ALL_BRANDS
    limit = limits.get(brand, limits.get(ALL_BRANDS))
    if limit is not None and value > limit:
        scope = (
            _("brand {brand}").format(brand=thread.brand) if thread.brand else _("threads without a brand")
        )
        raise OverCompensationLimit(
            _(
                "a compensation of {value} is over the limit of {limit} for {scope}; "
                "an admin sets the limits (Admin page, or `mentiondesk compensation limit`)"
            ).format(value=f"{value:g}", limit=f"{limit:g}", scope=scope)
        )


def add_compensation(
    session: Session, actor: Actor, thread_id: int, kind: str, value: float, *, code: str | None = None
) -> Compensation:
    check(actor, "thread.compensate")
    if kind not in COMPENSATION_KINDS:
        raise ValueError(_("unknown compensation {kind!r}").format(kind=kind))
    if value < 0:
        raise ValueError(_("a compensation value cannot be negative"))
    _check_limit(session, thread_id, value)
    row = Compensation(
        thread_id=thread_id,
        kind=kind,
        value=value,
        code=(code or "").strip() or None,
        given_by=actor.username,
        created_at=datetime.now(UTC),
    )
    session.add(row)
    audit.record(session, actor.username, "compensation", thread_id, kind=kind, value=value, code=row.code)
    return row


def merge(session: Session, actor: Actor, primary_id: int, duplicate_id: int) -> None:
    """Fold `duplicate` into `primary`: it leaves the queue (closed) until unmerged."""
    check(actor, "thread.merge")
    if primary_id == duplicate_id:
        raise ValueError(_("a thread cannot be merged into itself"))
    primary, _primary_desk = _desk(session, primary_id)
    duplicate, desk = _desk(session, duplicate_id)
    if desk.merged_into is not None:
        raise ValueError(_("thread {id} is already merged").format(id=duplicate_id))
    desk.merged_into = primary.id
    desk.merged_prev_status = duplicate.status
    duplicate.status = "closed"
    desk.seen_status = "closed"
    desk.version += 1
    refresh_rank(desk, duplicate.status, duplicate.max_negativity)
    audit.record(session, actor.username, "merge", duplicate_id, into=primary_id)
    audit.record(session, actor.username, "merge", primary_id, duplicate=duplicate_id)


def unmerge(session: Session, actor: Actor, duplicate_id: int) -> None:
    check(actor, "thread.merge")
    duplicate, desk = _desk(session, duplicate_id)
    if desk.merged_into is None:
        raise ValueError(_("thread {id} is not merged").format(id=duplicate_id))
    primary_id = desk.merged_into
    desk.merged_into = None
    duplicate.status = desk.merged_prev_status or "open"
    desk.seen_status = duplicate.status
    desk.merged_prev_status = None
    desk.version += 1
    refresh_rank(desk, duplicate.status, duplicate.max_negativity)
    audit.record(session, actor.username, "unmerge", duplicate_id, was_in=primary_id)


def merged_threads(session: Session, primary_id: int) -> list[int]:
    return list(session.scalars(select(DeskThread.thread_id).where(DeskThread.merged_into == primary_id)))


_WORD = re.compile(r"\w+", re.UNICODE)


def _words(text: str) -> set[str]:
    return {w for w in _WORD.findall(text.lower()) if len(w) > 2}


def similarity(a: str, b: str) -> float:
    """Jaccard overlap of the words (3+ letters) of two texts."""
    wa, wb = _words(a), _words(b)
    if not wa or not wb:
        return 0.0
    return len(wa & wb) / len(wa | wb)


@dataclass(frozen=True, slots=True)
class DuplicateSuggestion:
    thread_id: int
    source: str
    reason: str  # "same author" or "similar text (0.83)"
    text: str


def suggest_duplicates(session: Session, thread_id: int, limit: int = 10) -> list[DuplicateSuggestion]:
    """Other open cases of the same author, and cases with nearly the same text on another channel
    within a few days, not merged yet."""
    thread, _desk_row = get_thread(session, thread_id)
    root = aliased(Mention, name="root")
    own_text = session.scalar(
        select(Mention.text).where(
            Mention.source == thread.source, Mention.external_id == thread.root_external_id
        )
    )
    base = (
        select(Thread.id, Thread.source, root.text, root.author_id)
        .join(root, and_(root.source == Thread.source, root.external_id == Thread.root_external_id))
        .outerjoin(DeskThread, DeskThread.thread_id == Thread.id)
        .where(Thread.id != thread_id, DeskThread.merged_into.is_(None))
    )
    found: dict[int, DuplicateSuggestion] = {}
    author = root_author(session, thread)
    if author is not None:
        same = base.where(root.author_id == author.id, Thread.status.in_(("new", "open", "waiting"))).limit(
            limit
        )
        for row in session.execute(same):
            found[row.id] = DuplicateSuggestion(row.id, row.source, _("same author"), row.text)
    if own_text and thread.first_message_at is not None:
        window = base.where(
            Thread.source != thread.source,
            Thread.first_message_at.between(
                thread.first_message_at - DUPLICATE_WINDOW, thread.first_message_at + DUPLICATE_WINDOW
            ),
        ).limit(2000)
        for row in session.execute(window):
            score = similarity(own_text, row.text)
            if score >= SIMILARITY and row.id not in found:
                found[row.id] = DuplicateSuggestion(
                    row.id,
                    row.source,
                    _("similar text ({score})").format(score=format_decimal(score, 2)),
                    row.text,
                )
    return list(found.values())[:limit]


def ensure_can_view(actor: Actor) -> None:
    if not actor.can("thread.view"):
        raise PermissionDenied(_("{user} may not view threads").format(user=actor.username))
