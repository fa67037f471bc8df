"""The queue page and the router through Streamlit's AppTest against a real SQLite database."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from streamlit.testing.v1 import AppTest

from core.db.engine import make_engine, make_session_factory, migrate
from core.db.models import Thread
from core.db.repository import save_scored_mentions
from core.settings import get_settings
from desk.app_pages._format import QUEUE_EMPTY as EMPTY_MESSAGE
from desk.app_pages._format import format_age
from tests.desk_support import PASSWORD, create_user
from tests.factories import BASE_TIME, scored_mention

DESK = Path(__file__).resolve().parents[2] / "desk"
QUEUE_PAGE = DESK / "app_pages" / "queue.py"
ROUTER = DESK / "streamlit_app.py"
TRICKY_TEXT = "**bold** <b>x</b> <script>alert(1)</script>"


@pytest.fixture
def desk_db(sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("MD_DATABASE_URL", sqlite_url)
    get_settings.cache_clear()
    migrate(sqlite_url)
    create_user(sqlite_url, "mira", "manager", "support")
    create_user(sqlite_url, "alex", "agent", "support")
    yield sqlite_url
    get_settings.cache_clear()


def _populate(url: str) -> None:
    engine = make_engine(url)
    try:
        with make_session_factory(engine).begin() as session:
            save_scored_mentions(
                session,
                [
                    scored_mention("calm", text="all good", negativity=0.1, created_at=BASE_TIME),
                    scored_mention("bold", text=TRICKY_TEXT, negativity=0.8, lang="en", created_at=BASE_TIME),
                    scored_mention("worst", text="терпеть не могу", negativity=0.95, source="twitter"),
                ],
            )
    finally:
        engine.dispose()


def _page(path: Path, user: str | None) -> AppTest:
    app = AppTest.from_file(str(path), default_timeout=30)
    if user:
        app.session_state["md_user"] = user
    return app.run()


def test_queue_in_priority_order_with_plain_text(desk_db: str) -> None:
    _populate(desk_db)
    app = _page(QUEUE_PAGE, "mira")
    assert not app.exception
    assert len(app.dataframe) == 1
    frame = app.dataframe[0].value
    assert list(frame["Text"]) == ["терпеть не могу", TRICKY_TEXT, "all good"]
    assert list(frame["Source"]) == ["twitter", "vk", "vk"]
    assert list(frame["Language"]) == ["ru", "en", "ru"]
    assert list(frame["Negativity"]) == pytest.approx([0.95, 0.8, 0.1])
    assert all(frame["Owner"]), "the page's sync gave every thread an owner"
    assert all(left.startswith("overdue") for left in frame["Time left"]), "posted in January"
    # the mention text never reaches a markdown or HTML element
    rendered = [*app.markdown, *app.caption, *app.info, *app.text]
    assert all("bold" not in element.value for element in rendered)


def test_scopes_and_bulk_assign(desk_db: str) -> None:
    _populate(desk_db)
    app = _page(QUEUE_PAGE, "mira")
    assert len(app.dataframe[0].value) == 3
    engine = make_engine(desk_db)
    with make_session_factory(engine)() as session:
        ids = list(session.scalars(select(Thread.id).order_by(Thread.id)))
    engine.dispose()
    app.multiselect(key="bulk_cases").set_value(ids[:2])
    app.selectbox(key="bulk_owner").set_value("mira")
    app.button(key="bulk_assign").click().run()
    assert not app.exception
    assert [s.value for s in app.success] == ["2 threads assigned to mira."]
    app.radio(key="queue_scope").set_value("mine").run()
    mine = app.dataframe[0].value
    assert set(mine["Owner"]) == {"mira"} and len(mine) == 2

    agent = _page(QUEUE_PAGE, "alex")
    assert not agent.exception
    assert not [e for e in agent.expander if e.label == "Assign threads"], "agents cannot bulk-assign"


def test_empty_database_shows_empty_state(desk_db: str) -> None:
    app = _page(QUEUE_PAGE, "mira")
    assert not app.exception
    assert [info.value for info in app.info] == [EMPTY_MESSAGE]
    assert len(app.dataframe) == 0


def test_signed_out_sees_no_queue(desk_db: str) -> None:
    _populate(desk_db)
    app = _page(QUEUE_PAGE, None)
    assert [w.value for w in app.warning] == ["Please sign in."]
    assert len(app.dataframe) == 0


def test_router_signs_in_and_filters_pages_by_role(desk_db: str) -> None:
    _populate(desk_db)
    app = AppTest.from_file(str(ROUTER), default_timeout=30).run()
    assert not app.exception
    assert len(app.title) == 0, "no page-wide title above every page"
    assert [c.value for c in app.sidebar.caption] == ["mentiondesk"]
    assert len(app.dataframe) == 0, "nothing before signing in"
    app.text_input[0].set_value("alex")
    app.text_input[1].set_value("wrong password")
    app.button[0].click().run()
    assert [e.value for e in app.error] == ["Wrong user name or password, or the account is disabled."]
    app.text_input[1].set_value(PASSWORD)
    app.button[0].click().run()
    assert not app.exception
    assert app.session_state["md_user"] == "alex"
    assert app.dataframe[0].value["Text"].iloc[0] == "терпеть не могу"
    assert any("Signed in: alex (agent)" in t.value for t in app.sidebar.text)

    manager = AppTest.from_file(str(ROUTER), default_timeout=30)
    manager.session_state["md_user"] = "mira"
    manager.run()
    assert not manager.exception and len(manager.dataframe) == 1


@pytest.mark.parametrize(
    ("age", "shown"),
    [
        (timedelta(seconds=59), "0m"),
        (timedelta(minutes=12), "12m"),
        (timedelta(hours=4, minutes=5), "4h 05m"),
        (timedelta(days=2, hours=3, minutes=1), "2d 3h"),
    ],
)
def test_format_age(age: timedelta, shown: str) -> None:
    assert format_age(age) == shown
