"""The survey workflow on SQLite and PostgreSQL: asked once per case and cycle through the replies'
outbox, cooldown and opt-out, the question left out of the clocks and KPIs, answers read in the
sync pass (kept resolved unless a new problem), unreadable answers scored by hand, low scores
followed up, the figures from the stored surveys."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from core.brands import SurveyOptions
from core.db import outbox
from core.db.engine import make_engine, make_session_factory, migrate
from core.db.models import Thread
from core.db.models_desk import ClockEvent
from core.db.models_ingest import Reply
from core.db.models_surveys import Survey, SurveyFollowUp
from core.db.repository_ingest import apply_reply_result
from desk.services.calendar_store import load_calendar
from desk.services.kpis import Period, compute, load_cases
from desk.services.reply_outcome import settle_result
from desk.services.satisfaction import summarise
from desk.services.survey_followups import mark_done, open_followups
from desk.services.survey_intake import score_by_hand, to_score
from desk.services.survey_questions import question_text
from desk.services.survey_records import load_survey_records
from desk.services.surveys import SurveyPolicy, ask_after_resolve, opt_out
from desk.services.thread_view import get_thread
from desk.services.threads import set_status
from schemas import ReplyResult
from tests import survey_support as ss
from tests.desk_support import actor, setup_desk

# ---------------------------------------------------------------- asking


def test_resolving_asks_once_per_case_and_cycle_through_the_outbox(sessions: sessionmaker[Session]) -> None:
    setup_desk(sessions)
    tid = ss.case(sessions, "t1")
    ss.resolve(sessions, tid, ss.T0 + timedelta(hours=1))
    [survey] = ss.surveys(sessions)
    with sessions() as session:
        thread = session.get_one(Thread, tid)
        reply = session.get_one(Reply, survey.reply_id)
        assert outbox.pending(session) == 1, "the question waits in the outbox for the relay"
    assert (survey.kind, survey.lang, survey.author, survey.cycle) == ("csat", "ru", "cust1", 1)
    assert survey.agent == thread.assigned_to and survey.agent in ("anna", "boris")
    assert survey.team == "support" and survey.status == "asked" and survey.brand == "acme"
    assert survey.expires_at - survey.asked_at == timedelta(hours=72)
    assert reply.status == "queued" and reply.agent == "anna"
    assert reply.text == question_text("csat", "ru")
    assert reply.in_reply_to == "t1-p", "asked under the customer's own message"

    ss.resolve(sessions, tid, ss.T0 + timedelta(hours=2))  # resolved again: nothing happens
    with sessions() as session:  # even straight from the service: one survey per case and cycle
        thread, desk = get_thread(session, tid)
        assert desk is not None
        assert (
            ask_after_resolve(session, "anna", thread, desk, ss.NO_COOLDOWN, ss.T0 + timedelta(hours=2))
            is None
        )
        session.commit()
    assert len(ss.surveys(sessions)) == 1

    # reopened and resolved again: a new cycle, but the author was asked within the cooldown
    with sessions() as session:
        set_status(session, actor("anna"), tid, "open", ss.T0 + timedelta(hours=3))
        session.commit()
    ss.resolve(sessions, tid, ss.T0 + timedelta(hours=4))
    assert len(ss.surveys(sessions)) == 1
    with sessions() as session:  # without a cooldown the new cycle gets its own survey
        set_status(session, actor("anna"), tid, "open", ss.T0 + timedelta(hours=5))
        session.commit()
    ss.resolve(sessions, tid, ss.T0 + timedelta(hours=6), ss.NO_COOLDOWN)
    assert [s.cycle for s in ss.surveys(sessions)] == [1, 3]
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(Reply)) == 2


def test_two_desks_resolving_at_once_ask_once(postgres_url: str) -> None:
    migrate(postgres_url)
    engine = make_engine(postgres_url)
    sessions = make_session_factory(engine)
    try:
        setup_desk(sessions)
        tid = ss.case(sessions, "race")
        barrier = threading.Barrier(4)
        results: list[object] = []

        def resolve() -> None:
            with sessions() as session:
                thread, desk = get_thread(session, tid)
                assert desk is not None
                barrier.wait()
                results.append(ask_after_resolve(session, "anna", thread, desk, ss.NO_COOLDOWN, ss.T0))
                session.commit()

        workers = [threading.Thread(target=resolve) for _ in range(4)]
        for w in workers:
            w.start()
        for w in workers:
            w.join(30)
        assert sum(r is not None for r in results) == 1
        with sessions() as session:
            assert session.scalar(select(func.count()).select_from(Survey)) == 1
            assert session.scalar(select(func.count()).select_from(Reply)) == 1
            assert outbox.pending(session) == 1
    finally:
        engine.dispose()


def test_cooldown_opt_out_channels_and_language(sessions: sessionmaker[Session]) -> None:
    setup_desk(sessions)
    first = ss.case(sessions, "a1")
    ss.resolve(sessions, first, ss.T0 + timedelta(hours=1))
    soon = ss.case(sessions, "a2", at=ss.T0 + timedelta(days=10))
    ss.resolve(sessions, soon, ss.T0 + timedelta(days=10, hours=1))
    later = ss.case(sessions, "a3", at=ss.T0 + timedelta(days=31))
    ss.resolve(sessions, later, ss.T0 + timedelta(days=31, hours=1))
    assert [s.thread_id for s in ss.surveys(sessions)] == [first, later], "30 days between two surveys"

    other = ss.case(sessions, "b1", author="cust2")
    with sessions() as session:
        assert opt_out(session, actor("boris"), other, ss.T0)
        assert not opt_out(session, actor("boris"), other, ss.T0), "once is enough"
        session.commit()
    again = ss.case(sessions, "b2", author="cust2", at=ss.T0 + timedelta(days=40))
    ss.resolve(sessions, again, ss.T0 + timedelta(days=40, hours=1))
    assert ss.surveys(sessions, again) == [], "an author who opted out is not asked"

    review = ss.case(sessions, "r1", author="cust3", source="review:otzovik.com")
    ss.resolve(sessions, review, ss.T0 + timedelta(hours=1))
    assert ss.surveys(sessions, review) == [], "review sites take no survey"
    off = ss.case(sessions, "o1", author="cust4")
    ss.resolve(
        sessions, off, ss.T0 + timedelta(hours=1), SurveyPolicy(brands={"acme": SurveyOptions(vk="off")})
    )
    assert ss.surveys(sessions, off) == []

    tweet = ss.case(sessions, "x1", author="cust5", source="twitter", lang="en")
    ss.resolve(sessions, tweet, ss.T0 + timedelta(hours=1))
    [survey] = ss.surveys(sessions, tweet)
    assert (survey.kind, survey.lang) == ("both", "en")
    with sessions() as session:
        assert session.get_one(Reply, survey.reply_id).text == question_text("both", "en")


def test_the_question_is_not_the_agents_answer(sessions: sessionmaker[Session]) -> None:
    """A case resolved without a brand answer: the posted, confirmed and collected question moves no
    clock, changes no status and is no first response in the KPIs."""
    setup_desk(sessions)
    tid = ss.case(sessions, "q1", answered=False)
    ss.resolve(sessions, tid, ss.T0 + timedelta(hours=1))
    with sessions() as session:
        events_before = session.scalar(select(func.count()).select_from(ClockEvent))
    [survey] = ss.surveys(sessions)
    ss.posted(sessions, survey, ss.T0 + timedelta(hours=1, minutes=1))
    assert ss.state(sessions, tid) == ("resolved", 1, None)
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(ClockEvent)) == events_before
        calendar = load_calendar(session)
        [case] = load_cases(session, Period(ss.T0 - timedelta(days=1), ss.T0 + timedelta(days=1)), calendar)
        assert case.first_response_at is None
        assert [m.is_brand for m in case.messages] == [False], "the question is left out"
        kpis = compute([case], calendar, ss.T0 + timedelta(days=1))
        assert kpis.answered == 0 and kpis.missed == 1


def test_a_failed_question_does_not_touch_the_case(sessions: sessionmaker[Session]) -> None:
    setup_desk(sessions)
    tid = ss.case(sessions, "f1")
    ss.resolve(sessions, tid, ss.T0 + timedelta(hours=1))
    [survey] = ss.surveys(sessions)
    with sessions() as session:
        result = ReplyResult(reply_id=survey.reply_id, status="failed", error="no posting credentials")
        apply_reply_result(session, result)
        settle_result(session, result)
        session.commit()
    assert ss.state(sessions, tid)[0] == "resolved"
    # the customer writes after it: a new contact as always (the question never reached them)
    ss.says(sessions, tid, "Ещё вопрос по доставке", ss.T0 + timedelta(hours=2))
    assert ss.state(sessions, tid)[:2] == ("open", 2)
    assert ss.surveys(sessions)[0].status == "asked"


def test_no_answer_within_the_window_expires(sessions: sessionmaker[Session]) -> None:
    setup_desk(sessions)
    tid = ss.case(sessions, "e1")
    ss.resolve(sessions, tid, ss.T0 + timedelta(hours=1))
    [survey] = ss.surveys(sessions)
    ss.posted(sessions, survey, ss.T0 + timedelta(hours=1, minutes=1), collected=False)
    ss.sync(sessions, ss.T0 + timedelta(hours=72))
    assert ss.surveys(sessions)[0].status == "asked"
    ss.sync(sessions, ss.T0 + timedelta(hours=74))
    assert ss.surveys(sessions)[0].status == "expired"
    ss.says(sessions, tid, "5", ss.T0 + timedelta(hours=75))
    [expired] = ss.surveys(sessions)
    assert (expired.status, expired.csat, expired.answer_mention_id) == ("expired", None, None)
    assert ss.state(sessions, tid)[:2] == ("open", 2), "a late message is a new contact"


# ---------------------------------------------------------------- answers (the parser reads them)


def test_an_answer_is_read_and_the_case_stays_resolved(sessions: sessionmaker[Session]) -> None:
    setup_desk(sessions)
    tid = ss.case(sessions, "s1")
    ss.resolve(sessions, tid, ss.T0 + timedelta(hours=1))
    [survey] = ss.surveys(sessions)
    ss.posted(sessions, survey, ss.T0 + timedelta(hours=1, minutes=1))
    with sessions() as session:
        events_before = session.scalar(select(func.count()).select_from(ClockEvent))
    ss.says(sessions, tid, "5", ss.T0 + timedelta(hours=2))
    [answered] = ss.surveys(sessions)
    assert (answered.status, answered.csat, answered.nps, answered.read_by) == ("answered", 5, None, "parser")
    assert answered.answered_at == ss.T0 + timedelta(hours=2) and not answered.reopens
    assert ss.state(sessions, tid)[:2] == ("resolved", 1), "a survey answer is not a new contact"
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(ClockEvent)) == events_before
        assert session.scalar(select(func.count()).select_from(SurveyFollowUp)) == 0
        calendar = load_calendar(session)
        [case] = load_cases(session, Period(ss.T0 - timedelta(days=1), ss.T0 + timedelta(days=1)), calendar)
        kpis = compute([case], calendar, ss.T0 + timedelta(days=1))
        assert (kpis.fcr, kpis.resolved, kpis.came_back) == (1, 1, 0), "still first-contact resolution"
        records = load_survey_records(session, ss.T0, ss.T0 + timedelta(days=1))
    assert [(r.thread_id, r.csat, r.brand, r.source) for r in records] == [(tid, 5, "acme", "vk")]
    figures = summarise(records)
    assert figures.csat == pytest.approx(1.0)

    # the customer writes again later: a new contact as always
    ss.says(sessions, tid, "А теперь не работает промокод", ss.T0 + timedelta(hours=5), negativity=0.8)
    assert ss.state(sessions, tid)[:2] == ("open", 2)


def test_an_answer_with_a_new_problem_reopens_and_a_low_score_is_followed_up(
    sessions: sessionmaker[Session],
) -> None:
    setup_desk(sessions)
    tid = ss.case(sessions, "n1")
    ss.resolve(sessions, tid, ss.T0 + timedelta(hours=1))
    [survey] = ss.surveys(sessions)
    ss.posted(sessions, survey, ss.T0 + timedelta(hours=1, minutes=1))
    ss.says(
        sessions,
        tid,
        "2. Заказ пришёл, но курьер опять списал деньги дважды, верните!",
        ss.T0 + timedelta(hours=2),
        negativity=0.92,
    )
    [answered] = ss.surveys(sessions)
    assert (answered.status, answered.csat, answered.reopens) == ("answered", 2, True)
    status, cycle, _ = ss.state(sessions, tid)
    assert (status, cycle) == ("open", 2), "a new problem reopens the case"
    with sessions() as session:
        [task] = session.scalars(select(SurveyFollowUp)).all()
        owner = session.get_one(Thread, tid).assigned_to
    assert (task.thread_id, task.owner, task.manager) == (tid, owner, "maria")
    assert task.due_at == ss.T0.replace(hour=18), "the end of the business day"


def test_an_unreadable_answer_waits_for_an_agent_never_guessed(sessions: sessionmaker[Session]) -> None:
    setup_desk(sessions)
    tid = ss.case(sessions, "u1")
    ss.resolve(sessions, tid, ss.T0 + timedelta(hours=1))
    [survey] = ss.surveys(sessions)
    ss.posted(sessions, survey, ss.T0 + timedelta(hours=1, minutes=1))
    ss.says(sessions, tid, UNREADABLE, ss.T0 + timedelta(hours=2), negativity=0.3)
    [waiting] = ss.surveys(sessions)
    assert (waiting.status, waiting.csat, waiting.nps, waiting.read_by) == ("unreadable", None, None, None)
    assert ss.state(sessions, tid)[:2] == ("resolved", 1)
    with sessions() as session:
        assert [s.id for s in to_score(session)] == [waiting.id]
        with pytest.raises(ValueError, match="CSAT"):
            score_by_hand(
                session, actor("anna"), waiting.id, csat=None, nps=7, now=ss.T0 + timedelta(hours=3)
            )
        score_by_hand(session, actor("anna"), waiting.id, csat=3, nps=None, now=ss.T0 + timedelta(hours=19))
        session.commit()
        with pytest.raises(ValueError, match="by hand"):
            score_by_hand(
                session, actor("anna"), waiting.id, csat=5, nps=None, now=ss.T0 + timedelta(hours=20)
            )
    [scored] = ss.surveys(sessions)
    assert (scored.status, scored.csat, scored.read_by, scored.scored_by) == ("answered", 3, "agent", "anna")
    with sessions() as session:
        assert to_score(session) == []
        [item] = open_followups(session, ss.T0 + timedelta(hours=19))
        # scored at 05:00 the next morning (UTC calendar, 09:00-18:00): due at that day's end
        assert item.due_at == ss.T0.replace(hour=18) + timedelta(days=1)
        assert open_followups(session, ss.T0, "maria") and open_followups(session, ss.T0, "nobody") == []
        mark_done(session, actor("maria", "manager", "support"), item.id, ss.T0 + timedelta(hours=25))
        session.commit()
        assert open_followups(session, ss.T0 + timedelta(hours=25)) == []


def test_someone_elses_message_is_not_the_answer(sessions: sessionmaker[Session]) -> None:
    setup_desk(sessions)
    tid = ss.case(sessions, "w1")
    ss.resolve(sessions, tid, ss.T0 + timedelta(hours=1))
    [survey] = ss.surveys(sessions)
    ss.posted(sessions, survey, ss.T0 + timedelta(hours=1, minutes=1))
    ss.says(sessions, tid, "5", ss.T0 + timedelta(hours=2), author="bystander")
    assert ss.surveys(sessions)[0].status == "asked"
    assert ss.state(sessions, tid)[:2] == ("open", 2), "another customer's message is a new contact"


UNREADABLE = "Посмотрим."
