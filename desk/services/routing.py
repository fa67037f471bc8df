"""Routing: rules pick a team; within the team, round-robin to agents on shift under their cap.

Rules are tried by position; the first whose every filled field matches wins (no rule: the
"default" team if it exists, else the whole desk). Agents without any shift rows count as always on
shift. Agents who marked themselves away get no new threads. When every agent is at the cap, off
shift or away, the thread still gets an owner: the team's manager (or any manager/admin) as
overflow, so no thread is left without one while users exist.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.db.models import Thread
from core.db.models_desk import DeskShift, DeskTeam, DeskUser, RoutingRule
from core.db.models_notices import DeskUserPrefs
from desk.services.clocks import BusinessCalendar

DEFAULT_TEAM = "default"
ACTIVE_STATUSES = ("new", "open", "waiting")


@dataclass(frozen=True, slots=True)
class ThreadFacts:
    """What routing looks at: the thread and its root message."""

    source: str
    brand: str | None
    lang: str | None
    topics: frozenset[str]
    text: str
    author_ids: frozenset[str]  # the root author's id and handle


def _split(value: str | None) -> list[str]:
    return [part.strip().lower() for part in (value or "").split(",") if part.strip()]


def rule_matches(rule: RoutingRule, facts: ThreadFacts) -> bool:
    if rule.source and rule.source != facts.source:
        return False
    if rule.brand and (facts.brand or "").lower() != rule.brand.lower():
        return False
    if rule.lang and rule.lang != facts.lang:
        return False
    if rule.topic and rule.topic not in facts.topics:
        return False
    keywords = _split(rule.keywords)
    if keywords and not any(k in facts.text.lower() for k in keywords):
        return False
    vips = _split(rule.vip_authors)
    authors = {a.lower().lstrip("@") for a in facts.author_ids}
    return not (vips and not any(v.lstrip("@") in authors for v in vips))


def choose_team(rules: Sequence[RoutingRule], facts: ThreadFacts, teams: Iterable[str]) -> str | None:
    for rule in sorted(rules, key=lambda r: (r.position, r.id)):
        if rule.active and rule_matches(rule, facts):
            return rule.team
    return DEFAULT_TEAM if DEFAULT_TEAM in set(teams) else None


def on_shift(shifts: Sequence[DeskShift], now: datetime, calendar: BusinessCalendar) -> bool:
    if not shifts:
        return True
    local = now.astimezone(calendar.zone)
    minute = local.hour * 60 + local.minute
    return any(s.weekday == local.weekday() and s.start_min <= minute < s.end_min for s in shifts)


@dataclass
class Assignment:
    team: str | None
    owner: str | None
    overflow: bool = False


@dataclass
class Router:
    """Rules, teams, users, shifts and current loads, read once per sync pass and kept up to date
    in memory while it assigns, so caps hold inside one pass too."""

    calendar: BusinessCalendar
    rules: list[RoutingRule]
    teams: dict[str, DeskTeam]
    users: list[DeskUser]
    shifts: dict[str, list[DeskShift]]
    loads: dict[str, int] = field(default_factory=dict)
    away: set[str] = field(default_factory=set)  # agents who marked themselves away get nothing new

    @classmethod
    def load(cls, session: Session, calendar: BusinessCalendar) -> Router:
        users = list(session.scalars(select(DeskUser).where(DeskUser.active.is_(True))))
        shifts: dict[str, list[DeskShift]] = {}
        for shift in session.scalars(select(DeskShift)):
            shifts.setdefault(shift.username, []).append(shift)
        counted = session.execute(
            select(Thread.assigned_to, func.count())
            .where(Thread.assigned_to.is_not(None), Thread.status.in_(("new", "open")))
            .group_by(Thread.assigned_to)
        )
        loads = {owner: count for owner, count in counted}
        return cls(
            calendar=calendar,
            rules=list(session.scalars(select(RoutingRule))),
            teams={t.name: t for t in session.scalars(select(DeskTeam))},
            users=users,
            shifts=shifts,
            loads={str(k): int(v) for k, v in loads.items()},
            away=set(session.scalars(select(DeskUserPrefs.username).where(DeskUserPrefs.away.is_(True)))),
        )

    def assign(self, facts: ThreadFacts, now: datetime) -> Assignment:
        team = choose_team(self.rules, facts, self.teams)
        members = sorted(
            (u for u in self.users if u.role == "agent" and (team is None or u.team == team)),
            key=lambda u: u.username,
        )
        available = [
            u
            for u in members
            if u.username not in self.away
            and on_shift(self.shifts.get(u.username, []), now, self.calendar)
            and self.loads.get(u.username, 0) < u.cap
        ]
        if available:
            last = self.teams[team].rr_last if team in self.teams else None
            names = [u.username for u in available]
            later = [n for n in names if last is None or n > last]
            owner = later[0] if later else names[0]
            if team in self.teams:
                self.teams[team].rr_last = owner
            self.loads[owner] = self.loads.get(owner, 0) + 1
            return Assignment(team, owner)
        return Assignment(team, self._overflow_owner(team), overflow=True)

    def _overflow_owner(self, team: str | None) -> str | None:
        present = [u for u in self.users if u.username not in self.away] or self.users
        leads = [u for u in present if u.role in ("manager", "brand_lead") and u.team == team]
        leads = leads or [u for u in present if u.role in ("manager", "brand_lead", "admin")]
        if not leads:
            leads = [u for u in present if u.role == "agent"]  # nobody else: least-loaded agent
        if not leads:
            return None
        owner = min(leads, key=lambda u: (self.loads.get(u.username, 0), u.username)).username
        self.loads[owner] = self.loads.get(owner, 0) + 1
        return owner
