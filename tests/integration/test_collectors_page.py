"""The desk's collectors page and `mentiondesk collectors status` show a failing collector's
message and alert, and a stalled one."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from streamlit.testing.v1 import AppTest

from core.db.engine import make_engine, make_session_factory, migrate
from core.settings import Settings, get_settings
from ingest.health import HealthBook
from mentiondesk.ingest_commands import status_lines
from tests.desk_support import create_user
from tests.support import PROJECT_ROOT


@pytest.fixture
def recorded(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    migrate(database_url)
    engine = make_engine(database_url)
    book = HealthBook(make_session_factory(engine), poll_interval_s=60)
    now = datetime.now(UTC)
    book.started("vk", now)
    book.failed("vk", "VK error 5: User authorization failed", now, alert="collector stopped: token rejected")
    book.started("twitter", now - timedelta(hours=1))
    book.succeeded("twitter", now - timedelta(hours=1))
    engine.dispose()
    monkeypatch.setenv("MD_DATABASE_URL", database_url)
    get_settings.cache_clear()
    yield database_url
    get_settings.cache_clear()


def test_status_command_lists_failing_and_stalled(recorded: str) -> None:
    text = "\n".join(status_lines(Settings(database_url=recorded, stall_periods=3)))
    assert "VK error 5: User authorization failed" in text
    assert "ALERT: collector stopped: token rejected" in text
    assert "ALERT: stalled" in text


def test_desk_page_shows_the_alerts(recorded: str) -> None:
    os.chdir(PROJECT_ROOT)
    create_user(recorded, "mira", "manager")
    app = AppTest.from_file(str(PROJECT_ROOT / "desk" / "app_pages" / "collectors.py"), default_timeout=30)
    app.session_state["md_user"] = "mira"
    app.run()
    errors = [e.value for e in app.error]
    assert any("vk: collector stopped: token rejected" in e for e in errors)
    assert any(e.startswith("twitter: stalled") for e in errors)
    assert list(app.dataframe[0].value["State"]) == ["stalled", "failing"]  # twitter, vk


def test_agents_do_not_see_collector_health(recorded: str) -> None:
    os.chdir(PROJECT_ROOT)
    create_user(recorded, "alex", "agent")
    app = AppTest.from_file(str(PROJECT_ROOT / "desk" / "app_pages" / "collectors.py"), default_timeout=30)
    app.session_state["md_user"] = "alex"
    app.run()
    assert [e.value for e in app.error] == ["Your role (agent) does not allow this page."]
    assert len(app.dataframe) == 0
