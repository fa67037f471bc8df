"""The queue page through Streamlit's AppTest against a real SQLite database."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from desk.app_pages.queue import EMPTY_MESSAGE, format_age
from desk.store.engine import make_engine, make_session_factory, migrate
from desk.store.repository import save_scored_mentions
from mentiondesk.settings import get_settings
from tests.factories import BASE_TIME, scored_mention

DESK = Path(__file__).resolve().parents[2] / "desk"
QUEUE_PAGE = DESK / "app_pages" / "queue.py"
ROUTER = DESK / "streamlit_app.py"
TRICKY_TEXT = "**bold** <b>x</b> <script>alert(1)</script>"


@pytest.fixture
def desk_db(sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("MD_DATABASE_URL", sqlite_url)
    get_settings.cache_clear()
    yield sqlite_url
    get_settings.cache_clear()


def _populate(url: str) -> None:
    migrate(url)
    engine = make_engine(url)
    try:
        with make_session_factory(engine).begin() as session:
            save_scored_mentions(
                session,
                [
                    scored_mention("calm", text="all good", negativity=0.1, created_at=BASE_TIME),
                    scored_mention("bold", text=TRICKY_TEXT, negativity=0.8, lang="en"),
                    scored_mention("worst", text="терпеть не могу", negativity=0.95, source="twitter"),
                ],
            )
    finally:
        engine.dispose()


def test_queue_in_order_with_plain_text(desk_db: str) -> None:
    _populate(desk_db)
    app = AppTest.from_file(str(QUEUE_PAGE), default_timeout=30).run()
    assert not app.exception
    assert len(app.dataframe) == 1
    frame = app.dataframe[0].value
    assert list(frame["Thread"]) == ["worst", "bold", "calm"]
    assert list(frame["Text"]) == ["терпеть не могу", TRICKY_TEXT, "all good"]
    assert list(frame["Source"]) == ["twitter", "vk", "vk"]
    assert list(frame["Language"]) == ["ru", "en", "ru"]
    assert list(frame["Negativity"]) == pytest.approx([0.95, 0.8, 0.1])
    assert all(age.endswith(("d", "h", "m")) or " " in age for age in frame["Age"])
    # the mention text never reaches a markdown or HTML element
    rendered = [*app.markdown, *app.caption, *app.info, *app.text]
    assert all("bold" not in element.value for element in rendered)
    assert not app.info


def test_empty_database_shows_empty_state(desk_db: str) -> None:
    app = AppTest.from_file(str(QUEUE_PAGE), default_timeout=30).run()  # the page migrates by itself
    assert not app.exception
    assert [info.value for info in app.info] == [EMPTY_MESSAGE]
    assert len(app.dataframe) == 0


def test_router_opens_the_queue(desk_db: str) -> None:
    _populate(desk_db)
    app = AppTest.from_file(str(ROUTER), default_timeout=30).run()
    assert not app.exception
    assert app.title[0].value == "mentiondesk"
    assert list(app.dataframe[0].value["Thread"]) == ["worst", "bold", "calm"]


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
