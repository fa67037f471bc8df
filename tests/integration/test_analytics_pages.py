"""The Trends, KPIs and Digest pages through Streamlit's AppTest on a real SQLite database, and the
spike banner: managers see figures, agents are refused, mention text stays plain."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from core.db.alerts import save_alerts
from core.db.engine import make_engine, make_session_factory, migrate
from core.settings import get_settings
from desk.services.calendar_store import save_calendar
from schemas import Alert
from schemas.base import utc_now
from tests.analytics_fixture import CALENDAR, DAY, load_fixture_day
from tests.desk_support import create_user

PAGES = Path(__file__).resolve().parents[2] / "desk" / "app_pages"


@pytest.fixture
def desk_db(sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("MD_DATABASE_URL", sqlite_url)
    get_settings.cache_clear()
    migrate(sqlite_url)
    create_user(sqlite_url, "mira", "manager", "support")
    create_user(sqlite_url, "alex", "agent", "support")
    engine = make_engine(sqlite_url)
    with make_session_factory(engine)() as session:
        load_fixture_day(session)
        save_calendar(session, CALENDAR)  # the pages show and cut days in the calendar's zone: UTC
        session.commit()
    engine.dispose()
    yield sqlite_url
    get_settings.cache_clear()


def _page(name: str, user: str, **state: object) -> AppTest:
    app = AppTest.from_file(str(PAGES / name), default_timeout=60)
    app.session_state["md_user"] = user
    for key, value in state.items():
        app.session_state[key] = value
    return app.run()


def test_trends_page_shows_the_period_and_drills_down_in_plain_text(desk_db: str) -> None:
    app = _page("trends.py", "mira", trends_from=DAY.date(), trends_to=DAY.date())
    assert not app.exception
    assert "7 customer mentions, 5 negative, 0 spikes." in app.caption[0].value
    assert len(app.get("vega_lite_chart")) == 3
    drill = app.dataframe[0].value
    assert set(drill["source"]) == {"twitter"}  # the first source in order: twitter
    assert app.markdown == [] or all("Courier" not in m.value for m in app.markdown)


def test_kpis_page_per_agent_with_csv(desk_db: str) -> None:
    app = _page("kpis.py", "mira", kpi_from=DAY.date(), kpi_to=DAY.date(), kpi_by="agent")
    assert not app.exception
    assert app.metric[0].value == "5"
    table = app.dataframe[0].value
    assert list(table["agent"]) == ["alice", "bob"]
    assert list(table["Cases"]) == [3, 2]
    assert app.get("download_button")


def test_digest_page_and_role_gate(desk_db: str) -> None:
    app = _page("digest.py", "mira", digest_day=DAY.date())
    assert not app.exception
    assert app.caption[0].value.startswith("7 mentions (0 on an average day), 5 negative, 0 spikes")
    refused = _page("kpis.py", "alex")
    assert refused.error and "does not allow" in refused.error[0].value
    assert not refused.dataframe


def test_spike_banner_until_dismissed(desk_db: str) -> None:
    engine = make_engine(desk_db)
    now = utc_now()
    with make_session_factory(engine)() as session:
        save_alerts(
            session,
            [
                Alert(
                    brand="acme", source="vk", topic=None, window_start=now - timedelta(minutes=20),
                    window_end=now - timedelta(minutes=5), negative_count=9, total_count=12,
                    negative_share=0.75, baseline_share=0.2, score=5.0,
                )
            ],
        )  # fmt: skip
        session.commit()
    engine.dispose()
    app = _page("trends.py", "mira")
    router = AppTest.from_file(str(PAGES.parent / "streamlit_app.py"), default_timeout=60)
    router.session_state["md_user"] = "alex"
    router.run()
    assert not router.exception
    assert any("Negativity spike: acme / vk: 9 of 12 negative" in e.value for e in router.error)
    router.button(key=next(b.key for b in router.button if b.key and b.key.startswith("ack-"))).click().run()
    assert not any("Negativity spike" in e.value for e in router.error)
    del app
