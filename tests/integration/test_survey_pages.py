"""The survey on the desk's pages (AppTest, real SQLite): a low score's follow-up on the queue for the
owner and the manager, marked done on the thread page; an unreadable answer scored by hand; "do not
survey this author"; CSAT, NPS and response rate on the KPI page, its CSV and the digest."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from streamlit.testing.v1 import AppTest

from core.db.engine import make_engine, make_session_factory, migrate
from core.db.models import Thread
from core.db.models_surveys import SurveyFollowUp, SurveyOptOut
from core.settings import get_settings
from desk.services.digest import build_digest, render_html
from tests import survey_support as ss
from tests.desk_support import setup_desk

PAGES = Path(__file__).resolve().parents[2] / "desk" / "app_pages"


@dataclass
class Desk:
    sessions: sessionmaker[Session]
    low: int  # a case answered "1"
    owner: str
    other: str


@pytest.fixture
def desk(sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Desk]:
    monkeypatch.setenv("MD_DATABASE_URL", sqlite_url)
    get_settings.cache_clear()
    migrate(sqlite_url)
    engine = make_engine(sqlite_url)
    sessions = make_session_factory(engine)
    setup_desk(sessions)
    low = _answered(sessions, "low", "1")
    with sessions() as session:
        owner = session.get_one(Thread, low).assigned_to
    assert owner in ("anna", "boris")
    yield Desk(sessions, low, owner, "boris" if owner == "anna" else "anna")
    engine.dispose()
    get_settings.cache_clear()


def _answered(sessions: sessionmaker[Session], key: str, text: str, author: str = "cust1") -> int:
    tid = ss.case(sessions, key, author=author)
    ss.resolve(sessions, tid, ss.T0 + timedelta(hours=1), ss.NO_COOLDOWN)
    [survey] = ss.surveys(sessions, tid)
    ss.posted(sessions, survey, ss.T0 + timedelta(hours=1, minutes=1))
    ss.says(sessions, tid, text, ss.T0 + timedelta(hours=2), author=author)
    return tid


def _page(name: str, user: str, **state: object) -> AppTest:
    app = AppTest.from_file(str(PAGES / name), default_timeout=60)
    app.session_state["md_user"] = user
    for key, value in state.items():
        app.session_state[key] = value
    return app.run()


def _followups(app: AppTest) -> list[dict[str, object]]:
    if "Follow-ups" not in [h.value for h in app.subheader]:
        return []
    [table] = [d for d in app.dataframe if "Score" in d.value.columns]
    return list(table.value.to_dict("records"))


def test_a_low_score_is_followed_up_from_the_queue_until_done(desk: Desk) -> None:
    manager = _page("queue.py", "maria")
    assert not manager.exception
    [row] = _followups(manager)
    assert (row["Case"], row["Score"], row["Owner"], row["Manager"]) == (
        desk.low,
        "CSAT 1",
        desk.owner,
        "maria",
    )
    assert str(row["Due"]).startswith("overdue"), "due at the end of that business day, long past"
    [own] = _followups(_page("queue.py", desk.owner))
    assert own["Case"] == desk.low
    assert _followups(_page("queue.py", desk.other)) == [], "not the other agent's follow-up"

    thread = _page("thread.py", desk.owner, md_thread=desk.low)
    assert not thread.exception
    shown = [t.value for t in thread.text]
    assert any("answered · CSAT 1 · read by parser" in t for t in shown), shown
    assert any(t == "answer: 1" for t in shown)
    with desk.sessions() as session:
        [task] = session.scalars(select(SurveyFollowUp)).all()
    thread.button(key=f"followup_done_{task.id}").click().run()
    assert not thread.exception
    with desk.sessions() as session:
        done = session.get_one(SurveyFollowUp, task.id)
        assert done.done_by == desk.owner and done.done_at is not None
    assert _followups(_page("queue.py", "maria")) == []


def test_an_unreadable_answer_is_scored_by_hand_on_the_thread_page(desk: Desk) -> None:
    unread = _answered(desk.sessions, "unread", "Посмотрим.", author="cust9")
    queue = _page("queue.py", "maria")
    assert any(f"cases {unread}" in c.value for c in queue.caption), "listed to be scored by hand"
    thread = _page("thread.py", "anna", md_thread=unread)
    [survey] = ss.surveys(desk.sessions, unread)
    assert survey.status == "unreadable"
    thread.selectbox(key=f"survey_csat_{survey.id}").set_value(2)
    thread.button[[b.label for b in thread.button].index("Save score")].click().run()
    assert not thread.exception
    [scored] = ss.surveys(desk.sessions, unread)
    assert (scored.status, scored.csat, scored.read_by, scored.scored_by) == ("answered", 2, "agent", "anna")
    with desk.sessions() as session:
        assert session.scalar(select(SurveyFollowUp.thread_id).where(SurveyFollowUp.survey_id == scored.id))


def test_do_not_survey_this_author(desk: Desk) -> None:
    thread = _page("thread.py", "anna", md_thread=desk.low)
    thread.button(key=f"survey_opt_out_{desk.low}").click().run()
    assert not thread.exception
    with desk.sessions() as session:
        assert session.scalars(select(SurveyOptOut.author)).all() == ["cust1"]
    assert "This author is not asked for surveys." in [c.value for c in thread.caption]
    later = ss.case(desk.sessions, "later", at=ss.T0 + timedelta(days=40))
    ss.resolve(desk.sessions, later, ss.T0 + timedelta(days=40, hours=1), ss.NO_COOLDOWN)
    assert ss.surveys(desk.sessions, later) == []


def test_kpi_page_csv_and_digest_show_the_customers_verdict(desk: Desk) -> None:
    _answered(desk.sessions, "happy", "5", author="cust2")
    silent = ss.case(desk.sessions, "silent", author="cust3")
    ss.resolve(desk.sessions, silent, ss.T0 + timedelta(hours=1), ss.NO_COOLDOWN)
    # three asked, two answered: CSAT 1 of 2 answers is 4-5 (50%), response rate 2/3
    day = ss.T0.date()
    app = _page("kpis.py", "maria", kpi_from=day, kpi_to=day, kpi_by="brand")
    assert not app.exception
    assert "Customer satisfaction" in [h.value for h in app.subheader]
    metrics = {m.label: m.value for m in app.metric}
    assert metrics["CSAT"] == "50%"
    assert metrics["Survey response rate"] == "67%"
    assert metrics["Low scores"] == "1"
    [table] = [d.value for d in app.dataframe if "CSAT" in d.value.columns]
    [acme] = table.to_dict("records")
    assert acme["Surveys asked"] == 3 and acme["CSAT"] == pytest.approx(0.5)
    assert acme["CSAT target"] == pytest.approx(0.9) and acme["CSAT met"] is False

    with desk.sessions() as session:
        digest = build_digest(session, day, zone="UTC", now=ss.T0 + timedelta(days=1))
    assert digest.satisfaction is not None and digest.satisfaction.figures.asked == 3
    html = render_html(digest, {})
    assert "Customer satisfaction" in html
    assert "CSAT 50% (target 90%) · NPS – (target 44) · response rate 67% (2 of 3 surveys answered)" in html
