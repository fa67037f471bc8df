"""The desk's KPIs: one module of definitions (documented in the README, "KPIs").

A **case** is a thread whose first customer message (non-brand author) falls in the period; it
belongs to the day (in the desk's time zone, desk.services.desk_time) of that message, to its
source and brand (whose calendar its clocks run on), to its owner (`threads.assigned_to`) and
team (`desk_threads.team`). Brand replies are mentions by brand accounts (`is_brand`); a reply
made on the desk counts from `desk_threads.first_response_at`.

- first response: the earliest brand answer after the first customer message.
- timely first responses: answered by the first-response due time (clocks.first_response_due) /
  cases that are answered or past due (a case still inside its deadline is not judged yet).
- first-response time, mean and median: business hours (clocks.business_hours_between) from the
  first customer message to the first response, over answered cases.
- missed: cases without an answer by their due time (answered late, or not at all and past due).
- update-clock hits: `status_update` clock events "hit" / ("hit" + "missed") in the period.
- resolution within deadline: `resolution` clock events "hit" / ("hit" + "missed") in the period.
- first-contact resolution: resolved or closed cases with exactly one brand answer and no customer
  message after it / resolved or closed cases.
- won back: answered cases where the customer wrote again after the answer and the last customer
  message is less negative than the first / answered cases where the customer wrote again.
- compensation: number and total value of compensations granted on the period's cases.
- time to resolve, mean and median: business hours from the first customer message to the last
  time the desk set the case resolved or closed (desk.services.resolution_time), over resolved cases.
- negative share: customer mentions labelled negative / customer mentions, by creation time.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Final
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.db.models import Mention, Thread
from core.db.models_desk import ClockEvent, Compensation, DeskThread
from core.i18n import N_
from desk.services.calendar_store import load_calendars
from desk.services.clocks import BusinessCalendar, CalendarBook, business_hours_between, first_response_due
from desk.services.desk_time import zone_name
from desk.services.resolution_time import resolved_at
from desk.services.survey_links import survey_mention_ids

DIMENSIONS: Final = ("day", "agent", "team", "source", "brand")
RESOLVED: Final = ("resolved", "closed")


@dataclass(frozen=True, slots=True)
class Message:
    at: datetime
    is_brand: bool
    negativity: float
    negative: bool


@dataclass(slots=True)
class Case:
    thread_id: int
    source: str
    brand: str | None
    agent: str | None
    team: str | None
    status: str
    day: date
    messages: list[Message]  # in time order
    desk_first_response_at: datetime | None = None
    compensations: list[float] = field(default_factory=list)
    resolved_at: datetime | None = None  # the desk's last resolve or close

    @property
    def first_customer(self) -> Message:
        return next(m for m in self.messages if not m.is_brand)

    @property
    def first_response_at(self) -> datetime | None:
        start = self.first_customer.at
        answers = [m.at for m in self.messages if m.is_brand and m.at >= start]
        if self.desk_first_response_at is not None and self.desk_first_response_at >= start:
            answers.append(self.desk_first_response_at)
        return min(answers) if answers else None


@dataclass(frozen=True, slots=True)
class Kpis:
    cases: int
    customer_mentions: int
    negative_mentions: int
    negative_share: float | None
    answered: int
    judged: int  # answered, or unanswered and past due
    timely: int
    timely_share: float | None
    frt_mean_h: float | None
    frt_median_h: float | None
    missed: int
    update_hits: int
    update_misses: int
    update_hit_share: float | None
    resolution_hits: int
    resolution_misses: int
    resolution_share: float | None
    resolved: int
    fcr: int
    fcr_share: float | None
    came_back: int
    won_back: int
    won_back_share: float | None
    compensations: int
    compensation_value: float
    ttr_mean_h: float | None = None  # time to resolve, business hours
    ttr_median_h: float | None = None


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def compute(
    cases: Sequence[Case],
    calendar: BusinessCalendar | CalendarBook,
    now: datetime,
    clock_events: Iterable[tuple[str, str]] = (),
) -> Kpis:
    """The KPIs of these cases; `clock_events` are the period's (clock, event) pairs."""
    customer = [m for c in cases for m in c.messages if not m.is_brand]
    negative = sum(m.negative for m in customer)
    answered = judged = timely = missed = 0
    frt: list[float] = []
    ttr: list[float] = []
    resolved = fcr = came_back = won_back = 0
    book = _book(calendar)
    for case in cases:
        first = case.first_customer
        cal = book.for_brand(case.brand)  # each case's clocks run on its brand's calendar
        due = first_response_due(cal, first.at)
        response = case.first_response_at
        if response is not None:
            answered += 1
            judged += 1
            frt.append(business_hours_between(cal, first.at, response))
            if response <= due:
                timely += 1
            else:
                missed += 1
            later = [m for m in case.messages if not m.is_brand and m.at > response]
            if later:
                came_back += 1
                if later[-1].negativity < first.negativity:
                    won_back += 1
        elif now > due:
            judged += 1
            missed += 1
        if case.status in RESOLVED:
            resolved += 1
            if case.resolved_at is not None and case.resolved_at >= first.at:
                ttr.append(business_hours_between(cal, first.at, case.resolved_at))
            answers = [m for m in case.messages if m.is_brand and m.at >= first.at]
            n_answers = max(len(answers), 1 if case.desk_first_response_at else 0)
            if (
                n_answers == 1
                and response is not None
                and not any(not m.is_brand and m.at > response for m in case.messages)
            ):
                fcr += 1
    events = list(clock_events)
    uh = sum(1 for c, e in events if c == "status_update" and e == "hit")
    um = sum(1 for c, e in events if c == "status_update" and e == "missed")
    rh = sum(1 for c, e in events if c == "resolution" and e == "hit")
    rm = sum(1 for c, e in events if c == "resolution" and e == "missed")
    comps = [v for c in cases for v in c.compensations]
    return Kpis(
        cases=len(cases),
        customer_mentions=len(customer),
        negative_mentions=negative,
        negative_share=_share(negative, len(customer)),
        answered=answered,
        judged=judged,
        timely=timely,
        timely_share=_share(timely, judged),
        frt_mean_h=statistics.fmean(frt) if frt else None,
        frt_median_h=statistics.median(frt) if frt else None,
        missed=missed,
        update_hits=uh,
        update_misses=um,
        update_hit_share=_share(uh, uh + um),
        resolution_hits=rh,
        resolution_misses=rm,
        resolution_share=_share(rh, rh + rm),
        resolved=resolved,
        fcr=fcr,
        fcr_share=_share(fcr, resolved),
        came_back=came_back,
        won_back=won_back,
        won_back_share=_share(won_back, came_back),
        compensations=len(comps),
        compensation_value=float(sum(comps)),
        ttr_mean_h=statistics.fmean(ttr) if ttr else None,
        ttr_median_h=statistics.median(ttr) if ttr else None,
    )


# ---------------------------------------------------------------- loading


@dataclass(frozen=True, slots=True)
class Period:
    start: datetime
    end: datetime


def _book(calendar: BusinessCalendar | CalendarBook) -> CalendarBook:
    """One calendar given: every brand's clocks run on it."""
    return calendar if isinstance(calendar, CalendarBook) else CalendarBook(desk=calendar)


def load_cases(
    session: Session, period: Period, calendar: BusinessCalendar | CalendarBook, zone: str | None = None
) -> list[Case]:
    """Cases whose first customer message is in [start, end), with all their messages; each on the
    day of that message in `zone` (default: the desk's zone, desk.services.desk_time)."""
    local = ZoneInfo(zone or zone_name(_book(calendar).desk.tz))
    firsts = {
        tid: first
        for tid, first in session.execute(
            select(Mention.thread_id, func.min(Mention.created_at))
            .where(Mention.is_brand.is_(False))
            .group_by(Mention.thread_id)
        )
        if first is not None and period.start <= first < period.end
    }
    if not firsts:
        return []
    ids = sorted(firsts)
    threads = {t.id: t for t in session.scalars(select(Thread).where(Thread.id.in_(ids)))}
    desk = {d.thread_id: d for d in session.scalars(select(DeskThread).where(DeskThread.thread_id.in_(ids)))}
    messages: dict[int, list[Message]] = {i: [] for i in ids}
    surveys = survey_mention_ids(session, ids)  # survey questions and answers are not contacts
    for mid, tid, at, is_brand, negativity, label in session.execute(
        select(
            Mention.id,
            Mention.thread_id,
            Mention.created_at,
            Mention.is_brand,
            Mention.negativity,
            Mention.label,
        )
        .where(Mention.thread_id.in_(ids))
        .order_by(Mention.created_at, Mention.id)
    ):
        if mid not in surveys:
            messages[tid].append(Message(at, bool(is_brand), float(negativity), label == "negative"))
    comps: dict[int, list[float]] = {}
    for tid, value in session.execute(
        select(Compensation.thread_id, Compensation.value).where(Compensation.thread_id.in_(ids))
    ):
        comps.setdefault(tid, []).append(float(value))
    resolved = resolved_at(session, ids)
    cases = []
    for tid in ids:
        thread, d = threads[tid], desk.get(tid)
        cases.append(
            Case(
                thread_id=tid,
                source=thread.source,
                brand=thread.brand,
                agent=thread.assigned_to,
                team=d.team if d is not None else None,
                status=thread.status,
                day=firsts[tid].astimezone(local).date(),
                messages=messages[tid],
                desk_first_response_at=d.first_response_at if d is not None else None,
                compensations=comps.get(tid, []),
                resolved_at=resolved.get(tid),
            )
        )
    return cases


def load_clock_events(session: Session, period: Period) -> list[tuple[int, str, str]]:
    """(thread_id, clock, event) of the hit/missed clock events in the period."""
    return [
        (tid, clock, event)
        for tid, clock, event in session.execute(
            select(ClockEvent.thread_id, ClockEvent.clock, ClockEvent.event).where(
                ClockEvent.at >= period.start,
                ClockEvent.at < period.end,
                ClockEvent.event.in_(("hit", "missed")),
            )
        )
    ]


@dataclass(frozen=True, slots=True)
class KpiRow:
    group: str  # the dimension's value ("" = all)
    kpis: Kpis


def _key_of(dimension: str) -> Callable[[Case], str]:
    def key(case: Case) -> str:
        value = case.day.isoformat() if dimension == "day" else getattr(case, dimension)
        return "(none)" if value is None else str(value)

    return key


def kpi_table(
    session: Session,
    period: Period,
    now: datetime,
    by: str | None = None,
    calendar: BusinessCalendar | CalendarBook | None = None,
) -> list[KpiRow]:
    """The KPIs of the period, overall (by=None) or per day, agent, team, source or brand.
    Clock events are attributed to their thread's group (events of threads outside the period's
    cases count in the overall figures only)."""
    if by is not None and by not in DIMENSIONS:
        raise ValueError(f"unknown dimension {by!r}: expected one of {', '.join(DIMENSIONS)}")
    calendar = calendar or load_calendars(session, now.date())
    cases = load_cases(session, period, calendar)
    events = load_clock_events(session, period)
    if by is None:
        return [KpiRow("", compute(cases, calendar, now, [(c, e) for _, c, e in events]))]
    key = _key_of(by)
    groups: dict[str, list[Case]] = {}
    for case in cases:
        groups.setdefault(key(case), []).append(case)
    group_of = {case.thread_id: key(case) for case in cases}
    rows = []
    for name in sorted(groups):
        own = [(c, e) for tid, c, e in events if group_of.get(tid) == name]
        rows.append(KpiRow(name, compute(groups[name], calendar, now, own)))
    return rows


KPI_LABELS: Final = {
    "cases": N_("Cases"),
    "negative_share": N_("Negative share"),
    "timely_share": N_("Timely first responses"),
    "frt_mean_h": N_("First response, mean (business h)"),
    "frt_median_h": N_("First response, median (business h)"),
    "missed": N_("Missed"),
    "update_hit_share": N_("Update clock hits"),
    "resolution_share": N_("Resolved within deadline"),
    "fcr_share": N_("First-contact resolution"),
    "won_back_share": N_("Won back"),
    "compensations": N_("Compensations"),
    "compensation_value": N_("Compensation value"),
    "ttr_mean_h": N_("Time to resolve, mean (business h)"),
    "ttr_median_h": N_("Time to resolve, median (business h)"),
}


def kpi_records(rows: Sequence[KpiRow], dimension: str | None) -> list[dict[str, object]]:
    """Rows as flat dicts (for tables and CSV export), every figure included."""
    out = []
    for row in rows:
        record: dict[str, object] = {dimension or "scope": row.group or "all"}
        record.update({name: getattr(row.kpis, name) for name in Kpis.__dataclass_fields__})
        out.append(record)
    return out
