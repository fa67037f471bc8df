"""Desk notices: who is told what, once.

- **assigned**: the new owner of a thread, when routing (the sync pass) or a manager gives it to
  them (not when an agent takes a thread for themselves).
- **due_soon**: the owner of a case whose next clock runs out within the notice window
  (MD_NOTIFY_BEFORE_DUE_MIN); when the owner is away, the team's manager too.
- **missed**: when a clock runs out (the sync pass writes `missed` to clock_events), the team's
  manager (escalation) and the owner.

Every notice has a key (kind, thread, clock, due time or assignment version, recipient), unique in
the table and inserted with ON CONFLICT DO NOTHING: a pass run again, or by two processes at once,
tells nobody twice. A clock moved to a new due time is a new notice. Nothing here commits.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from sqlalchemy import Table, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from core.db.models import Thread
from core.db.models_desk import DeskSetting, DeskThread, DeskUser
from core.db.models_notices import DeskNotice, DeskUserPrefs
from core.i18n import N_, _

DEFAULT_BEFORE_DUE: Final = timedelta(minutes=30)
MANAGER_ROLES: Final = ("manager", "brand_lead")
QUEUE_STATUSES: Final = ("new", "open")
_CHUNK: Final = 5000  # ids per IN list
DUE_SCAN_KEY: Final = "notices.due_scan"
DUE_SCAN_EVERY: Final = timedelta(seconds=30)


@dataclass(frozen=True, slots=True)
class Miss:
    """A clock the sync pass just marked missed."""

    thread_id: int
    clock: str
    due_at: datetime | None


def _key(kind: str, thread_id: int, clock: str | None, stamp: str, username: str) -> str:
    return f"{kind}:{thread_id}:{clock or '-'}:{stamp}:{username}"[:200]


def _stamp(due: datetime | None) -> str:
    return "-" if due is None else due.astimezone(UTC).strftime("%Y%m%dT%H%M%S")


def _insert(session: Session, rows: Sequence[dict[str, Any]]) -> int:
    """Insert notices, skipping keys already there and recipients who are not active desk users;
    returns how many are new."""
    names = {row["username"] for row in rows}
    if names:  # a thread may be owned by a name that is no (longer an active) desk user
        users = set(
            session.scalars(
                select(DeskUser.username).where(DeskUser.username.in_(names), DeskUser.active.is_(True))
            )
        )
        rows = [row for row in rows if row["username"] in users]
    if not rows:
        return 0
    table: Table = DeskNotice.__table__  # type: ignore[assignment]
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    stmt = insert(table).on_conflict_do_nothing(index_elements=["key"]).returning(table.c.id)
    return len(session.execute(stmt, list(rows)).all())  # "insertmanyvalues": batched, compiled once


def _row(
    kind: str,
    thread_id: int,
    username: str,
    now: datetime,
    *,
    clock: str | None = None,
    due: datetime | None = None,
    stamp: str | None = None,
    about: str | None = None,
) -> dict[str, Any]:
    return {
        "key": _key(kind, thread_id, clock, stamp or _stamp(due), username),
        "username": username,
        "kind": kind,
        "thread_id": thread_id,
        "clock": clock,
        "due_at": due,
        "about": about if about != username else None,
        "created_at": now,
    }


def notify_assigned(session: Session, thread_id: int, owner: str, version: int, now: datetime) -> int:
    """Tell `owner` a thread is theirs; `version` (the desk row's, at assignment) tells apart a
    thread given to the same owner again later."""
    return _insert(session, [_row("assigned", thread_id, owner, now, stamp=f"v{version}")])


def _managers(session: Session, teams: Iterable[str | None]) -> dict[str | None, list[str]]:
    """Active managers (and brand leads) per team; a team without one falls back to every manager."""
    rows = list(
        session.execute(
            select(DeskUser.username, DeskUser.team, DeskUser.role).where(
                DeskUser.active.is_(True), DeskUser.role.in_(MANAGER_ROLES)
            )
        )
    )
    every = sorted(name for name, _, role in rows if role == "manager") or sorted(name for name, *_ in rows)
    out: dict[str | None, list[str]] = {}
    for team in set(teams):
        own = sorted(name for name, member_team, _ in rows if team is not None and member_team == team)
        out[team] = own or every
    return out


def _teams_of(session: Session, owners: Iterable[str]) -> dict[str, str | None]:
    names = {o for o in owners if o}
    if not names:
        return {}
    rows = session.execute(select(DeskUser.username, DeskUser.team).where(DeskUser.username.in_(names)))
    return {str(name): team for name, team in rows}


def _away(session: Session, owners: Iterable[str]) -> set[str]:
    names = {o for o in owners if o}
    if not names:
        return set()
    return set(
        session.scalars(
            select(DeskUserPrefs.username).where(
                DeskUserPrefs.username.in_(names), DeskUserPrefs.away.is_(True)
            )
        )
    )


def _clocks_in_window(d: Any, now: datetime, horizon: datetime) -> list[tuple[str, datetime]]:
    """The case's running clocks whose due time is in (now, horizon]."""
    running = (
        [("first_response", d.first_response_due)]
        if d.first_response_at is None
        else [("status_update", d.update_due)]
    )
    running.append(("resolution", d.resolution_due))
    return [(clock, due) for clock, due in running if due is not None and now < due <= horizon]


def notify_due_soon(session: Session, now: datetime, before: timedelta = DEFAULT_BEFORE_DUE) -> int:
    """Owners (and, for away owners, their managers) of cases whose next clock runs out within
    `before`. Three index range scans on the due times; only cases in the window are read."""
    d = DeskThread
    horizon = now + before
    # desk_threads alone first: the three due-time indexes (joined to threads, SQLite would walk
    # every open thread by status instead); then the owners of the few cases found
    in_window = select(
        d.thread_id, d.team, d.first_response_at, d.first_response_due, d.update_due, d.resolution_due
    ).where(
        ((d.first_response_due > now) & (d.first_response_due <= horizon) & d.first_response_at.is_(None))
        | ((d.update_due > now) & (d.update_due <= horizon) & d.first_response_at.is_not(None))
        | ((d.resolution_due > now) & (d.resolution_due <= horizon)),
        d.paused_at.is_(None),
        d.merged_into.is_(None),
    )
    candidates = list(session.execute(in_window))
    owner_of: dict[int, str] = {}
    for start in range(0, len(candidates), _CHUNK):
        chunk = [c.thread_id for c in candidates[start : start + _CHUNK]]
        # status filtered here, not in SQL: SQLite would pick the status index over the primary key
        owned = select(Thread.id, Thread.assigned_to, Thread.status).where(Thread.id.in_(chunk))
        owner_of.update(
            {
                tid: str(owner)
                for tid, owner, status in session.execute(owned)
                if owner and status in QUEUE_STATUSES
            }
        )
    found = [(row, owner_of[row.thread_id]) for row in candidates if row.thread_id in owner_of]
    if not found:
        return 0
    owners = [owner for _, owner in found]
    away = _away(session, owners)
    teams = _teams_of(session, owners)
    managers = _managers(session, {row.team or teams.get(owner) for row, owner in found if owner in away})
    rows: list[dict[str, Any]] = []
    for desk_row, owner in found:
        recipients = [owner]
        if owner in away:
            recipients += managers.get(desk_row.team or teams.get(owner), [])
        for clock, due in _clocks_in_window(desk_row, now, horizon):
            for name in dict.fromkeys(recipients):
                rows.append(
                    _row("due_soon", desk_row.thread_id, name, now, clock=clock, due=due, about=owner)
                )
    return _insert(session, rows)


def scan_due_soon(session: Session, now: datetime, before: timedelta = DEFAULT_BEFORE_DUE) -> int:
    """`notify_due_soon` at most every DUE_SCAN_EVERY (the worker's sync pass runs every few
    seconds under load); the caller holds the sync pass's lock, so processes share the pace."""
    row = session.get(DeskSetting, DUE_SCAN_KEY)
    if row is not None:
        last = datetime.fromisoformat(row.value["at"])
        if last <= now < last + DUE_SCAN_EVERY:
            return 0
        row.value = {"at": now.isoformat()}
    else:
        session.add(DeskSetting(key=DUE_SCAN_KEY, value={"at": now.isoformat()}, updated_at=now))
    return notify_due_soon(session, now, before)


def notify_missed(session: Session, misses: Sequence[Miss], now: datetime) -> int:
    """The team's managers and the owner of each clock that just ran out."""
    if not misses:
        return 0
    ids = sorted({m.thread_id for m in misses})
    facts = {
        tid: (owner, team)
        for tid, owner, team in session.execute(
            select(Thread.id, Thread.assigned_to, DeskThread.team)
            .join(DeskThread, DeskThread.thread_id == Thread.id)
            .where(Thread.id.in_(ids))
        )
    }
    teams = _teams_of(session, [owner for owner, _ in facts.values() if owner])
    managers = _managers(session, {team or teams.get(owner or "") for owner, team in facts.values()})
    rows: list[dict[str, Any]] = []
    for miss in misses:
        owner, team = facts.get(miss.thread_id, (None, None))
        recipients = [*managers.get(team or teams.get(owner or ""), []), *([owner] if owner else [])]
        for name in dict.fromkeys(recipients):
            rows.append(
                _row("missed", miss.thread_id, name, now, clock=miss.clock, due=miss.due_at, about=owner)
            )
    return _insert(session, rows)


# ---------------------------------------------------------------- reading


def unread_count(session: Session, username: str) -> int:
    return int(
        session.scalar(
            select(func.count())
            .select_from(DeskNotice)
            .where(DeskNotice.username == username, DeskNotice.read_at.is_(None))
        )
        or 0
    )


def recent(
    session: Session, username: str, *, unread_only: bool = False, limit: int = 20
) -> list[DeskNotice]:
    """The user's newest notices, newest first."""
    stmt = select(DeskNotice).where(DeskNotice.username == username)
    if unread_only:
        stmt = stmt.where(DeskNotice.read_at.is_(None))
    return list(
        session.scalars(stmt.order_by(DeskNotice.created_at.desc(), DeskNotice.id.desc()).limit(limit))
    )


def mark_read(
    session: Session, username: str, notice_ids: Sequence[int] | None = None, now: datetime | None = None
) -> int:
    """Mark the user's notices read (all unread ones when `notice_ids` is None); only their own."""
    stmt = (
        update(DeskNotice)
        .where(DeskNotice.username == username, DeskNotice.read_at.is_(None))
        .values(read_at=now or datetime.now(UTC))
    )
    if notice_ids is not None:
        stmt = stmt.where(DeskNotice.id.in_(list(notice_ids)))
    return int(getattr(session.execute(stmt), "rowcount", 0) or 0)


NOTICE_TEXT: Final = {
    "assigned": N_("Case {thread} is assigned to you"),
    "due_soon": N_("Case {thread}: the {clock} clock runs out at {due}"),
    "missed": N_("Case {thread}: the {clock} deadline ({due}) was missed"),
}
CLOCK_NAMES: Final = {
    "first_response": N_("first response"),
    "status_update": N_("status update"),
    "resolution": N_("resolution"),
}


def notice_text(notice: DeskNotice, fmt_time: Any = None) -> str:
    """One line for the desk, Telegram and e-mail (plain text, no customer words in it)."""
    due = notice.due_at
    shown = (fmt_time(due) if fmt_time else f"{due:%Y-%m-%d %H:%M} UTC") if due else "?"
    clock = notice.clock or ""
    text = _(NOTICE_TEXT[notice.kind]).format(
        thread=notice.thread_id, clock=_(CLOCK_NAMES[clock]) if clock in CLOCK_NAMES else clock, due=shown
    )
    if notice.about:
        text += " " + _("(owner: {owner})").format(owner=notice.about)
    return text
