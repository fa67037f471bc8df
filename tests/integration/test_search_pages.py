"""The search page, thread tags and the queue's saved views through Streamlit's AppTest, on a real
SQLite database."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select
from streamlit.testing.v1 import AppTest

from core.db.engine import make_engine, make_session_factory, migrate
from core.db.models import Thread
from core.i18n import missing, record_lookups
from core.settings import get_settings
from desk.app_pages._session import LANGUAGE_KEY
from desk.services.search import NOTHING_TO_SEARCH
from desk.services.sync import sync_threads
from desk.services.tags import thread_tags
from tests.desk_support import create_user, save
from tests.factories import BASE_TIME, scored_mention

DESK = Path(__file__).resolve().parents[2] / "desk"
ROUTER = DESK / "streamlit_app.py"
QUEUE_PAGE = DESK / "app_pages" / "queue.py"
THREAD_PAGE = DESK / "app_pages" / "thread.py"
TRICKY = "<b>доставка</b> **сорвана** <script>alert(1)</script>"


@pytest.fixture
def desk_db(sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("MD_DATABASE_URL", sqlite_url)
    get_settings.cache_clear()
    migrate(sqlite_url)
    create_user(sqlite_url, "mira", "manager", "support")
    create_user(sqlite_url, "alex", "agent", "support")
    engine = make_engine(sqlite_url)
    sessions = make_session_factory(engine)
    save(
        sessions,
        [
            scored_mention("late", text=TRICKY, negativity=0.9, created_at=BASE_TIME),
            scored_mention("calm", text="всё хорошо", negativity=0.1, brand="globex", created_at=BASE_TIME),
            scored_mention(
                "eng", text="deliveries are late", lang="en", negativity=0.6, created_at=BASE_TIME
            ),
        ],
    )
    with sessions.begin() as session:
        sync_threads(session, BASE_TIME)
    engine.dispose()
    yield sqlite_url
    get_settings.cache_clear()


def _thread_id(url: str, key: str) -> int:
    engine = make_engine(url)
    try:
        with make_session_factory(engine)() as session:
            return int(session.scalar(select(Thread.id).where(Thread.thread_key == key)) or 0)
    finally:
        engine.dispose()


def _signed_in(path: Path, user: str) -> AppTest:
    app = AppTest.from_file(str(path), default_timeout=30)
    app.session_state["md_user"] = user
    return app.run()


def _search(app: AppTest, query: str) -> AppTest:
    app.text_input(key="search_query").set_value(query)
    return app.button(key="search_submit").click().run()


def test_search_page_finds_an_inflected_word_and_opens_the_thread(desk_db: str) -> None:
    app = _signed_in(ROUTER, "alex")
    app.switch_page("app_pages/search.py").run()
    assert not app.exception
    assert [h.value for h in app.header] == ["Search"]
    _search(app, "доставку")
    assert not app.exception
    late = _thread_id(desk_db, "late")
    frame = app.dataframe[0].value
    assert list(frame["Case"]) == [late]
    assert list(frame["Matching messages"]) == [TRICKY]
    # the customer's text reaches no markdown or HTML element
    assert all("script" not in e.value for e in [*app.markdown, *app.caption, *app.info, *app.text])

    _search(app, "deliveries")
    assert list(app.dataframe[0].value["Case"]) == [_thread_id(desk_db, "eng")]
    _search(app, "доставку -сорвана")
    assert len(app.dataframe) == 0 and [i.value for i in app.info] == [
        "No thread matches these words and filters."
    ]
    _search(app, '🙂 "" ( )')
    assert [w.value for w in app.warning] == [NOTHING_TO_SEARCH]
    _search(app, "доставку " + "x" * 9_000)
    assert not app.exception and len(app.dataframe) == 0

    _search(app, "доставка")
    app.selectbox(key="search_open_case").set_value(late)
    app.button(key="search_open").click().run()
    assert not app.exception
    assert app.session_state["md_thread"] == late
    assert any(h.value.startswith("Case") for h in app.header), "the thread page is open"


def test_search_filters_on_the_page(desk_db: str) -> None:
    app = _signed_in(ROUTER, "mira")
    app.switch_page("app_pages/search.py").run()
    app.multiselect(key="search_brands").set_value(["globex"])
    _search(app, "доставка or хорошо")
    assert list(app.dataframe[0].value["Case"]) == [_thread_id(desk_db, "calm")]
    app.multiselect(key="search_brands").set_value([])
    app.multiselect(key="search_labels").set_value(["negative"])
    _search(app, "доставка or хорошо")
    assert list(app.dataframe[0].value["Case"]) == [_thread_id(desk_db, "late")]


def test_tags_on_the_thread_page_then_the_queue_filter(desk_db: str) -> None:
    late = _thread_id(desk_db, "late")
    app = AppTest.from_file(str(THREAD_PAGE), default_timeout=30)
    app.session_state["md_user"] = "alex"
    app.session_state["md_thread"] = late
    app.run()
    assert not app.exception
    app.multiselect(key=f"tags_{late}").set_value(["Доставка", "VIP клиент"])
    app.button(key=f"tags_save_{late}").click().run()
    assert not app.exception
    engine = make_engine(desk_db)
    with make_session_factory(engine)() as session:
        assert thread_tags(session, late) == ["vip клиент", "доставка"]
    engine.dispose()
    assert set(app.multiselect(key=f"tags_{late}").value) == {"vip клиент", "доставка"}

    queue = _signed_in(QUEUE_PAGE, "mira")
    assert len(queue.dataframe[0].value) == 3
    queue.multiselect(key="qf_tags").set_value(["доставка"]).run()
    assert list(queue.dataframe[0].value["Case"]) == [late]


def test_saved_views_shared_by_a_manager_and_kept_by_an_agent(desk_db: str) -> None:
    manager = _signed_in(QUEUE_PAGE, "mira")
    assert not manager.exception
    manager.multiselect(key="qf_brands").set_value(["globex"])
    manager.text_input(key="qv_name").set_value("Globex")
    manager.checkbox(key="qv_shared").check()
    manager.button(key="qv_save").click().run()
    assert not manager.exception
    assert list(manager.dataframe[0].value["Brand"]) == ["globex"]

    agent = _signed_in(QUEUE_PAGE, "alex")
    assert not [c for c in agent.checkbox if c.key == "qv_shared"], "agents cannot share"
    assert len(agent.dataframe[0].value) == 3
    view = agent.selectbox(key="queue_view")
    assert view.options == ["Globex (shared by mira)"]
    view.select_index(0).run()
    assert not agent.exception
    assert agent.multiselect(key="qf_brands").value == ["globex"]
    assert list(agent.dataframe[0].value["Brand"]) == ["globex"]

    agent.radio(key="queue_scope").set_value("mine")
    agent.multiselect(key="qf_brands").set_value([])
    agent.text_input(key="qv_name").set_value("Мои")
    agent.button(key="qv_save").click().run()
    assert not agent.exception
    assert agent.selectbox(key="queue_view").options == ["Мои", "Globex (shared by mira)"]
    again = _signed_in(QUEUE_PAGE, "mira")
    assert again.selectbox(key="queue_view").options == ["Globex (shared)"], "alex's view is his own"


def test_search_tags_and_views_in_russian_miss_no_translation(desk_db: str) -> None:
    late = _thread_id(desk_db, "late")
    with record_lookups() as seen:
        app = AppTest.from_file(str(ROUTER), default_timeout=30)
        app.session_state["md_user"] = "mira"
        app.session_state[LANGUAGE_KEY] = "ru"
        app.run()
        app.switch_page("app_pages/search.py").run()
        _search(app, "доставку")
        assert not app.exception
        assert list(app.dataframe[0].value.iloc[:, 0]) == [late]
        _search(app, "🙂")
        app.switch_page("app_pages/queue.py").run()
        assert not app.exception
        thread = AppTest.from_file(str(THREAD_PAGE), default_timeout=30)
        thread.session_state["md_user"] = "mira"
        thread.session_state[LANGUAGE_KEY] = "ru"
        thread.session_state["md_thread"] = late
        thread.run()
        assert not thread.exception
    mine = {"Tags", "Save tags", "Saved view", "Save this view", "Search", "Matching messages"}
    assert mine & seen, "the pages looked their texts up"
    assert missing(seen) == set()
