"""The desk (router, AppTest, real SQLite): a click on a queue row opens its thread, the sidebar
shows the user's unread notices and marks them read, agents set themselves away and back."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select
from streamlit.testing.v1 import AppTest

from core.db.engine import make_engine, make_session_factory, migrate
from core.db.models import Thread
from core.db.repository import save_scored_mentions
from core.settings import get_settings
from desk.services.notices import notify_assigned, recent, unread_count
from desk.services.user_prefs import is_away, prefs
from tests.desk_support import create_user
from tests.factories import BASE_TIME, scored_mention

ROUTER = Path(__file__).resolve().parents[2] / "desk" / "streamlit_app.py"


@pytest.fixture
def desk_db(sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("MD_DATABASE_URL", sqlite_url)
    get_settings.cache_clear()
    migrate(sqlite_url)
    create_user(sqlite_url, "mira", "manager", "support")
    create_user(sqlite_url, "alex", "agent", "support")
    engine = make_engine(sqlite_url)
    with make_session_factory(engine).begin() as session:
        save_scored_mentions(
            session,
            [
                scored_mention("low", text="all good", negativity=0.1, created_at=BASE_TIME),
                scored_mention("high", text="terrible service", negativity=0.95, created_at=BASE_TIME),
            ],
        )
    engine.dispose()
    yield sqlite_url
    get_settings.cache_clear()


def _desk(user: str) -> AppTest:
    app = AppTest.from_file(str(ROUTER), default_timeout=30)
    app.session_state["md_user"] = user
    return app.run()


def _ids(url: str) -> dict[str, int]:
    engine = make_engine(url)
    with make_session_factory(engine)() as session:
        ids = {key: tid for key, tid in session.execute(select(Thread.thread_key, Thread.id))}
    engine.dispose()
    return ids


def test_a_click_on_a_queue_row_opens_its_thread(desk_db: str) -> None:
    app = _desk("mira")
    assert not app.exception
    frame = app.dataframe[0].value
    assert list(frame["Text"]) == ["terrible service", "all good"]
    second = int(frame["Case"].iloc[1])
    app.session_state["queue_table"] = {"selection": {"rows": [1], "columns": [], "cells": []}}
    app.run()
    assert not app.exception
    assert app.session_state["md_thread"] == second == _ids(desk_db)["low"]
    assert not app.dataframe or "Case" not in app.dataframe[0].value.columns, "the thread page, not the queue"


def test_sidebar_notices_unread_and_mark_read(desk_db: str) -> None:
    app = _desk("alex")  # the queue's sync pass gives both threads owners (alex is the one agent)
    engine = make_engine(desk_db)
    sessions = make_session_factory(engine)
    with sessions() as session:
        told = {(n.kind, n.thread_id) for n in recent(session, "alex", limit=50)}
        before = unread_count(session, "alex")
    ids = _ids(desk_db)
    # both threads are alex's, and posted in January: both clocks long missed
    assert {("assigned", ids["low"]), ("assigned", ids["high"]), ("missed", ids["low"])} <= told
    with sessions.begin() as session:
        notify_assigned(session, ids["low"], "alex", 42, BASE_TIME)
    app.run()
    labels = [e.label for e in app.sidebar.expander]
    assert f"Notices ({before + 1} unread)" in labels
    app.button(key="md_notices_read").click().run()
    assert not app.exception
    with sessions() as session:
        assert unread_count(session, "alex") == 0
    assert "Notices" in [e.label for e in app.sidebar.expander]
    engine.dispose()


def test_agent_sets_themselves_away_and_back(desk_db: str) -> None:
    app = _desk("alex")
    engine = make_engine(desk_db)
    sessions = make_session_factory(engine)
    app.toggle(key="md_away").set_value(True).run()
    assert not app.exception
    with sessions() as session:
        assert is_away(session, "alex")
    app.toggle(key="md_away").set_value(False).run()
    with sessions() as session:
        assert not is_away(session, "alex")
    engine.dispose()


def test_admin_sets_where_a_users_notices_go(desk_db: str) -> None:
    create_user(desk_db, "root", "admin")
    app = AppTest.from_file(str(ROUTER.parent / "app_pages" / "admin.py"), default_timeout=30)
    app.session_state["md_user"] = "root"
    app.run()
    assert not app.exception
    app.selectbox(key="contact_who").set_value("alex")
    app.text_input(key="contact_email").set_value("alex@example.test")
    app.text_input(key="contact_chat").set_value("not a chat")
    app.button(key="FormSubmitter:notice_contacts-Save contacts").click().run()
    assert any("Telegram chat id" in e.value for e in app.error), "a bad chat id is refused"
    app.selectbox(key="contact_who").set_value("alex")
    app.text_input(key="contact_email").set_value("alex@example.test")
    app.text_input(key="contact_chat").set_value("-100123")
    app.button(key="FormSubmitter:notice_contacts-Save contacts").click().run()
    assert "Contacts of alex saved." in [s.value for s in app.success]
    engine = make_engine(desk_db)
    with make_session_factory(engine)() as session:
        row = prefs(session, "alex")
        assert row is not None and (row.email, row.telegram_chat_id) == ("alex@example.test", "-100123")
    engine.dispose()
