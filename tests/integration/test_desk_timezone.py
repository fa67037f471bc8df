"""The desk's time zone (MD_DESK_TIMEZONE, else the desk calendar's: Moscow by default): a mention at
23:30 UTC belongs to the next Moscow day in the KPIs, the trends and the digest; pages show Moscow
time; a brand with its own calendar gets its own clocks from the sync."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session, sessionmaker
from streamlit.testing.v1 import AppTest

from core.db.engine import make_engine, make_session_factory, migrate
from core.db.models import Thread
from core.db.models_desk import DeskThread
from core.db.repository import save_scored_mentions
from core.settings import Settings, get_settings
from desk.services.calendar_store import load_calendars, save_calendar
from desk.services.clocks import BusinessCalendar
from desk.services.desk_time import desk_zone, digest_zone
from desk.services.digest import build_digest
from desk.services.kpis import Period, kpi_records, kpi_table
from desk.services.sync import sync_threads
from desk.services.trends import hour_of_day, mention_frame, over_time
from tests.desk_support import setup_desk
from tests.factories import scored_mention

PAGES = Path(__file__).resolve().parents[2] / "desk" / "app_pages"
D = date(2026, 11, 25)  # a Wednesday
LATE = datetime(2026, 11, 25, 23, 30, tzinfo=UTC)  # 02:30 on Thursday 26 November in Moscow
NOON = LATE - timedelta(hours=11)  # 15:30 on the 25th in Moscow
NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
MOSCOW = BusinessCalendar(tz="Europe/Moscow")


@pytest.fixture
def sessions(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[sessionmaker[Session]]:
    monkeypatch.delenv("MD_DESK_TIMEZONE", raising=False)
    monkeypatch.delenv("MD_DIGEST_TIMEZONE", raising=False)
    get_settings.cache_clear()
    migrate(database_url)
    engine = make_engine(database_url)
    factory = make_session_factory(engine)
    with factory.begin() as session:
        save_scored_mentions(
            session,
            [
                scored_mention("late", text="заказ не пришёл", negativity=0.9, created_at=LATE),
                scored_mention("noon", text="где посылка", negativity=0.8, created_at=NOON),
            ],
        )
    yield factory
    engine.dispose()
    get_settings.cache_clear()


def test_a_late_utc_mention_counts_on_the_next_moscow_day(sessions: sessionmaker[Session]) -> None:
    period = Period(datetime(2026, 11, 24, tzinfo=UTC), datetime(2026, 11, 28, tzinfo=UTC))
    with sessions() as session:
        assert desk_zone(session).key == "Europe/Moscow"  # nothing set: the default calendar's zone
        by_day = {r["day"]: r["cases"] for r in kpi_records(kpi_table(session, period, NOW, by="day"), "day")}
        frame = mention_frame(session, period.start, period.end)
        moscow_day = build_digest(session, date(2026, 11, 26), zone=digest_zone(session), now=NOW)
        utc_day = build_digest(session, D, zone="UTC", now=NOW)
    assert by_day == {"2026-11-25": 1, "2026-11-26": 1}
    daily = over_time(frame, "source", "1D", zone="Europe/Moscow")
    assert [(b.date().isoformat(), n) for b, n in zip(daily["bucket"], daily["mentions"], strict=True)] == [
        ("2026-11-25", 1),
        ("2026-11-26", 1),
    ]
    hourly = hour_of_day(frame, zone="Europe/Moscow")
    hours = dict(zip(hourly["hour"], hourly["mentions"], strict=True))
    assert hours == {15: 1, 2: 1}  # 12:30 and 23:30 UTC
    assert moscow_day.zone == "Europe/Moscow" and moscow_day.counts.mentions == 1
    assert utc_day.counts.mentions == 2  # in UTC both are on the 25th


def test_the_setting_wins_over_the_calendar(
    sessions: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MD_DESK_TIMEZONE", "UTC")
    get_settings.cache_clear()
    period = Period(datetime(2026, 11, 24, tzinfo=UTC), datetime(2026, 11, 28, tzinfo=UTC))
    with sessions() as session:
        by_day = {r["day"]: r["cases"] for r in kpi_records(kpi_table(session, period, NOW, by="day"), "day")}
        assert digest_zone(session) == "UTC"
    assert by_day == {"2026-11-25": 2}
    with pytest.raises(ValueError, match="unknown time zone"):
        Settings(_env_file=None, desk_timezone="Mars/Olympus")
    assert Settings(_env_file=None, desk_timezone=None).digest_zone == "Europe/Moscow"


def test_a_brand_calendar_runs_its_threads_clocks(sessions: sessionmaker[Session]) -> None:
    # the desk works 9-18 Moscow time with the production calendar; brand "nightshop" around the clock
    nightshop = BusinessCalendar(
        tz="Europe/Moscow", workdays=(0, 1, 2, 3, 4, 5, 6), day_start=time(0, 0), day_end=time(23, 59),
        cutoff=time(23, 59), country=None,
    )  # fmt: skip
    with sessions.begin() as session:
        save_calendar(session, MOSCOW)
        save_calendar(session, nightshop, "NightShop")
        save_scored_mentions(
            session,
            [
                scored_mention("own", text="no delivery", negativity=0.7, created_at=LATE, brand="nightshop"),
                scored_mention("desk", text="no delivery", negativity=0.7, created_at=LATE, brand="acme"),
            ],
        )
    with sessions.begin() as session:
        assert set(load_calendars(session).brands) == {"nightshop"}
        sync_threads(session, NOW)
    with sessions() as session:
        due = dict(
            session.execute(
                select(Thread.root_external_id, DeskThread.first_response_due).join(
                    DeskThread, DeskThread.thread_id == Thread.id
                )
            ).all()
        )
    # 02:30 Thursday 26 November Moscow: the desk answers by its cut-off that day, the night shop by 23:59
    assert due["desk"] == datetime(2026, 11, 26, 15, 0, tzinfo=UTC)  # 18:00 MSK
    assert due["own"] == datetime(2026, 11, 26, 20, 59, tzinfo=UTC)  # 23:59 MSK


def test_the_thread_page_shows_moscow_time(database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    if not database_url.startswith("sqlite"):
        pytest.skip("one page run is enough")
    monkeypatch.setenv("MD_DATABASE_URL", database_url)
    monkeypatch.delenv("MD_DESK_TIMEZONE", raising=False)
    get_settings.cache_clear()
    migrate(database_url)
    engine = create_engine(database_url)
    factory = make_session_factory(engine)
    setup_desk(factory, BusinessCalendar(tz="Europe/Moscow", country=None))
    with factory.begin() as session:
        save_scored_mentions(session, [scored_mention("p1", text="где заказ", created_at=LATE)])
    with factory.begin() as session:
        sync_threads(session, NOW)
    with factory() as session:
        thread_id = int(session.scalar(select(Thread.id)) or 0)
    engine.dispose()
    try:
        app = AppTest.from_file(str(PAGES / "thread.py"), default_timeout=30)
        app.session_state["md_user"] = "maria"
        app.session_state["md_thread"] = thread_id
        app.run()
        assert not app.exception
        texts = [t.value for t in app.text]
        assert any(v.startswith("2026-11-26 02:30 MSK") for v in texts), texts
        assert not any("23:30" in v for v in texts)
        queue = AppTest.from_file(str(PAGES / "queue.py"), default_timeout=30)
        queue.session_state["md_user"] = "maria"
        queue.run()
        assert not queue.exception
        assert list(queue.dataframe[0].value["Due"]) == ["2026-11-26 18:00 MSK"]
    finally:
        get_settings.cache_clear()
