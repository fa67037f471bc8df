"""Two weeks for the weekly report, written out by hand, in the desk's default calendar zone
(Europe/Moscow, UTC+3, business hours 9:00-18:00 Mon-Fri, cut-off 18:00).

2026-W47 is Mon 16 Nov 00:00 MSK (15 Nov 21:00 UTC) to Mon 23 Nov 00:00 MSK (22 Nov 21:00 UTC);
2026-W48 runs from there to Mon 30 Nov 00:00 MSK (29 Nov 21:00 UTC). Complaints = customer
mentions labelled negative (negativity >= 0.5 in tests.factories).

id   UTC time        week  brand  topics              negativity  thread
p1   16 Nov 10:00    W47   acme   delivery            0.90        own
p2   17 Nov 10:00    W47   acme   delivery            0.90        own
p3   18 Nov 10:00    W47   acme   refund              0.90        own
p4   19 Nov 10:00    W47   acme   refund              0.90        own
p5   20 Nov 10:00    W47   acme   refund              0.90        own
p6   21 Nov 10:00    W47   acme   app                 0.90        own
p7   21 Nov 11:00    W47   acme   delivery            0.30 (neutral: not a complaint)
p8   18 Nov 12:00    W47   other  delivery            0.90        own
p9   22 Nov 20:30    W47   acme   app                 0.90   (Sun 23:30 MSK: still W47)
c1   22 Nov 21:30    W48   acme   delivery            0.91   (Mon 00:30 MSK: W48, not W47)
c2   23 Nov 10:00    W48   acme   delivery            0.95
c3   24 Nov 10:00    W48   acme   delivery            0.97
c4   25 Nov 10:00    W48   acme   delivery            0.80
c5   26 Nov 10:00    W48   acme   delivery            0.85
c6   24 Nov 10:00    W48   acme   refund              0.90
c7   25 Nov 11:00    W48   acme   payment             0.70
c8   26 Nov 11:00    W48   acme   payment             0.75
c9   27 Nov 11:00    W48   acme   payment             0.60
c10  27 Nov 12:00    W48   acme   delivery            0.10 (positive: not a complaint)
c11  25 Nov 12:00    W48   other  delivery            0.90
c12  29 Nov 21:30    W49   acme   delivery            0.90   (Mon 30 Nov 00:30 MSK: W49)
c13  27 Nov 13:00    W48   acme   delivery, payment   0.99   (TRICKY text)
r1   23 Nov 08:00    W48   acme   delivery            0.90   brand reply in c1's thread (not counted)
r6   25 Nov 10:00    W48   acme   -                   0.10   brand reply in c6's thread

Rule topics of acme's complaints, W48 vs W47 (the week before):
  delivery  c1 c2 c3 c4 c5 c13 = 6   vs p1 p2 = 2     -> +4 (+200%)
  payment   c7 c8 c9 c13      = 4   vs none = 0       -> +4 (new)
  refund    c6                = 1   vs p3 p4 p5 = 3   -> -2 (-67%)
  app       none              = 0   vs p6 p9 = 2      -> -2 (-100%)
  delivery examples, most negative first: c13 (0.99), c3 (0.97), c2 (0.95)
All brands adds `other`: delivery 7 (c11) vs 3 (p8) -> +4 (+133%).
Mentions (customer) of acme: W48 11 (c1-c10, c13), 10 complaints; W47 8 (p1-p7, p9), 7 complaints.

KPIs of acme, W48, judged at NOW (Tue 1 Dec 12:00 UTC): 11 cases (the threads of c1-c10, c13).
  c1: first message Mon 00:30 MSK, due Mon 18:00 MSK; answered (r1) Mon 11:00 MSK: timely, 2.0
      business hours (9:00-11:00); thread resolved with that one answer: first-contact resolution.
  c6: Tue 13:00 MSK, due Tue 18:00; answered (r6) Wed 13:00 MSK: missed, 5 + 4 = 9.0 business hours.
  the other 9: unanswered and past due by NOW: missed.
  -> timely 1 of 11 judged, missed 10, mean first response (2 + 9) / 2 = 5.5 h, FCR 1 of 1 resolved.
W47: 8 cases, none answered: timely 0 of 8, missed 8.

Surveys (asked_at in the week; `load_weekly_fixture(..., surveys=True)`):
  W48 acme: c1 CSAT 5, c2 CSAT 4, c3 CSAT 2, c4 NPS 10, c5 NPS 9, c6 NPS 3, c7 NPS 8, c8 no answer,
            c9 answered but unreadable (no score), c10 no answer; W48 other: c11 CSAT 1;
  W47 acme: p1 CSAT 5.
  -> acme W48: asked 10, answered 8 (c1-c7, c9): response rate 80%; CSAT 2 of 3 answers are 4-5:
     67%, below the 90% target; NPS 4 answers, 2 promoters (10, 9), 1 passive (8), 1 detractor (3):
     (2 - 1) / 4 = +25, below the +44 target; low scores 2 (c3, c6).
  -> acme W47: asked 1, answered 1, CSAT 100% of 1, no NPS.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from core.db.models import Thread
from core.db.models_surveys import Survey
from core.db.repository import save_scored_mentions
from desk.services.calendar_store import save_calendar
from desk.services.clocks import BusinessCalendar
from schemas import ScoredMention
from tests.factories import scored_mention

WEEK = "2026-W48"
PREVIOUS = "2026-W47"
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
CALENDAR = BusinessCalendar()  # Europe/Moscow
TRICKY = "<script>alert('x')</script> курьер & оплата: доставка сорвана"


def _t(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC)


def weekly_mentions() -> list[ScoredMention]:
    def m(
        key: str, at: datetime, topics: tuple[str, ...], *, negativity: float = 0.9, brand: str = "acme",
        text: str | None = None,
    ) -> ScoredMention:  # fmt: skip
        return scored_mention(
            key, thread_key=key, created_at=at, topics=topics, negativity=negativity, brand=brand,
            text=text or f"complaint {key} about {' and '.join(topics)}",
        )  # fmt: skip

    return [
        m("p1", _t(16, 10), ("delivery",)),
        m("p2", _t(17, 10), ("delivery",)),
        m("p3", _t(18, 10), ("refund",)),
        m("p4", _t(19, 10), ("refund",)),
        m("p5", _t(20, 10), ("refund",)),
        m("p6", _t(21, 10), ("app",)),
        m("p7", _t(21, 11), ("delivery",), negativity=0.3),
        m("p8", _t(18, 12), ("delivery",), brand="other"),
        m("p9", _t(22, 20, 30), ("app",)),
        m("c1", _t(22, 21, 30), ("delivery",), negativity=0.91),
        m("c2", _t(23, 10), ("delivery",), negativity=0.95),
        m("c3", _t(24, 10), ("delivery",), negativity=0.97),
        m("c4", _t(25, 10), ("delivery",), negativity=0.80),
        m("c5", _t(26, 10), ("delivery",), negativity=0.85),
        m("c6", _t(24, 10), ("refund",)),
        m("c7", _t(25, 11), ("payment",), negativity=0.70),
        m("c8", _t(26, 11), ("payment",), negativity=0.75),
        m("c9", _t(27, 11), ("payment",), negativity=0.60),
        m("c10", _t(27, 12), ("delivery",), negativity=0.10),
        m("c11", _t(25, 12), ("delivery",), brand="other"),
        m("c12", _t(29, 21, 30), ("delivery",)),
        m("c13", _t(27, 13), ("delivery", "payment"), negativity=0.99, text=TRICKY),
        scored_mention(
            "r1",
            thread_key="c1",
            created_at=_t(23, 8),
            topics=("delivery",),
            negativity=0.9,
            is_brand=True,
            author_id="acme",
        ),
        scored_mention(
            "r6", thread_key="c6", created_at=_t(25, 10), negativity=0.1, is_brand=True, author_id="acme"
        ),
    ]


#: thread key -> (brand, kind, csat, nps, answered); asked a day after the thread's first message
SURVEYS: dict[str, tuple[str, str, int | None, int | None, bool]] = {
    "c1": ("acme", "csat", 5, None, True),
    "c2": ("acme", "csat", 4, None, True),
    "c3": ("acme", "csat", 2, None, True),
    "c4": ("acme", "nps", None, 10, True),
    "c5": ("acme", "nps", None, 9, True),
    "c6": ("acme", "nps", None, 3, True),
    "c7": ("acme", "nps", None, 8, True),
    "c8": ("acme", "csat", None, None, False),
    "c9": ("acme", "csat", None, None, True),
    "c10": ("acme", "nps", None, None, False),
    "c11": ("other", "csat", 1, None, True),
    "p1": ("acme", "csat", 5, None, True),
}


def _surveys(session: Session, ids: dict[str, int]) -> None:
    asked = {m.thread_key: m.created_at + timedelta(hours=2) for m in weekly_mentions()}
    for key, (brand, kind, csat, nps, answered) in SURVEYS.items():
        at = asked[key]
        status = "asked" if not answered else ("answered" if csat or nps else "unreadable")
        session.add(
            Survey(
                thread_id=ids[key], cycle=1, brand=brand, source="vk", kind=kind, lang="ru",
                author=f"a-{key}", asked_at=at, expires_at=at + timedelta(days=3),
                answered_at=at + timedelta(hours=1) if answered else None, csat=csat, nps=nps,
                status=status, read_by="parser" if answered else None,
            )
        )  # fmt: skip


def load_weekly_fixture(session: Session, *, surveys: bool = True) -> dict[str, int]:
    """Store the two weeks (with their surveys unless `surveys=False`) and the Moscow calendar;
    returns thread ids by thread key."""
    save_calendar(session, CALENDAR)
    save_scored_mentions(session, weekly_mentions())
    ids = {key: tid for tid, key in session.execute(select(Thread.id, Thread.thread_key))}
    session.execute(
        update(Thread).where(Thread.id == ids["c1"]).values(status="resolved", assigned_to="anna")
    )
    if surveys:
        _surveys(session, ids)
    session.flush()
    return ids
