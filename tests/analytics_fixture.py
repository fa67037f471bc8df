"""A fixture day for the KPIs and the digest: Monday 5 January 2026, a UTC business calendar
(9:00-18:00, cut-off 18:00, next-morning due 12:00, no production calendar: in Russia's the day is
one of the New Year holidays), five cases written out by hand."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from core.db.models import Thread
from core.db.models_desk import ClockEvent, Compensation, DeskThread
from core.db.repository import save_scored_mentions
from desk.services.clocks import BusinessCalendar
from schemas import ScoredMention
from tests.factories import scored_mention

DAY = datetime(2026, 1, 5, tzinfo=UTC)
NOW = datetime(2026, 1, 6, 20, 0, tzinfo=UTC)
CALENDAR = BusinessCalendar(tz="UTC", country=None)


def at(hours: float, day: int = 0) -> datetime:
    return DAY + timedelta(days=day, hours=hours)


def fixture_mentions() -> list[ScoredMention]:
    m = scored_mention
    return [
        # A: asked 09:00 (0.9), answered 10:30, customer back 11:00 (0.2): timely, won back.
        m("a1", thread_key="A", created_at=at(9), negativity=0.9, text="Courier lost my parcel again"),
        m("a2", thread_key="A", created_at=at(10.5), negativity=0.1, is_brand=True, author_id="acme"),
        m("a3", thread_key="A", created_at=at(11), negativity=0.2, text="Found it, thanks"),
        # B: asked 10:00 (0.8), answered 19:00 after the 18:00 due: missed; back 19:30 (0.95).
        m("b1", thread_key="B", created_at=at(10), negativity=0.8, text="Refund still not here"),
        m("b2", thread_key="B", created_at=at(19), negativity=0.1, is_brand=True, author_id="acme"),
        m("b3", thread_key="B", created_at=at(19.5), negativity=0.95, text="Still no refund, awful"),
        # C: asked 17:00 (0.3), never answered, past due by NOW: missed.
        m("c1", thread_key="C", created_at=at(17), negativity=0.3, text="Where is my order?"),
        # D (twitter): asked 12:00 (0.7), answered 12:30, resolved: first-contact resolution.
        m("d1", source="twitter", thread_key="D", created_at=at(12), negativity=0.7, text="App crashes"),
        m(
            "d2", source="twitter", thread_key="D", created_at=at(12.5), negativity=0.1,
            is_brand=True, author_id="acme_tw",
        ),
        # E: asked 19:00 after the cut-off (due 12:00 next day), answered 09:30 and 10:00 next day.
        m("e1", thread_key="E", created_at=at(19), negativity=0.6, text="Charged twice"),
        m("e2", thread_key="E", created_at=at(9.5, day=1), negativity=0.1, is_brand=True, author_id="acme"),
        m("e3", thread_key="E", created_at=at(10, day=1), negativity=0.1, is_brand=True, author_id="acme"),
        # F: the day before: not a case of this day.
        m("f1", thread_key="F", created_at=at(-3), negativity=0.9, text="Yesterday's complaint"),
    ]  # fmt: skip


def load_fixture_day(session: Session) -> dict[str, int]:
    """Store the day; returns thread ids by thread key."""
    save_scored_mentions(session, fixture_mentions())
    ids = {key: tid for tid, key in session.execute(select(Thread.id, Thread.thread_key))}
    owners = {"A": ("alice", "waiting"), "B": ("bob", "open"), "C": ("alice", "new"),
              "D": ("alice", "resolved"), "E": ("bob", "resolved")}  # fmt: skip
    for key, (owner, status) in owners.items():
        session.execute(update(Thread).where(Thread.id == ids[key]).values(assigned_to=owner, status=status))
    session.add_all(
        [DeskThread(thread_id=ids["A"], team="care"), DeskThread(thread_id=ids["B"], team="care")]
    )
    session.add_all(
        [
            ClockEvent(thread_id=ids["A"], clock="status_update", event="hit", at=at(13)),
            ClockEvent(thread_id=ids["A"], clock="status_update", event="hit", at=at(16)),
            ClockEvent(thread_id=ids["B"], clock="status_update", event="missed", at=at(15)),
            ClockEvent(thread_id=ids["D"], clock="resolution", event="hit", at=at(12.5)),
            ClockEvent(thread_id=ids["E"], clock="resolution", event="missed", at=at(11, day=1)),
        ]
    )
    session.add_all(
        [
            Compensation(thread_id=ids["D"], kind="promo_code", value=500.0, code="SORRY", given_by="alice"),
            Compensation(thread_id=ids["E"], kind="bonus", value=200.0, given_by="bob"),
        ]
    )
    session.flush()
    return ids
