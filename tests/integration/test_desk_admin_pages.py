"""The admin and audit pages through AppTest: an admin edits users, rules, templates and the
calendar; other roles are turned away; every change shows in the audit log."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, time
from pathlib import Path

import pytest
from sqlalchemy import select
from streamlit.testing.v1 import AppTest

from core.db.engine import make_engine, make_session_factory
from core.db.models_desk import ReplyTemplate, RoutingRule
from core.db.repository import save_scored_mentions
from core.settings import get_settings
from desk.services.auth import authenticate
from desk.services.calendar_store import load_calendar, load_own_calendar
from tests.desk_support import create_user
from tests.factories import scored_mention

PAGES = Path(__file__).resolve().parents[2] / "desk" / "app_pages"


@pytest.fixture
def desk_db(sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("MD_DATABASE_URL", sqlite_url)
    get_settings.cache_clear()
    create_user(sqlite_url, "root", "admin")
    create_user(sqlite_url, "mira", "manager")
    create_user(sqlite_url, "alex", "agent")
    yield sqlite_url
    get_settings.cache_clear()


def _page(name: str, user: str) -> AppTest:
    app = AppTest.from_file(str(PAGES / name), default_timeout=30)
    app.session_state["md_user"] = user
    return app.run()


def _submit(app: AppTest, form: str, label: str) -> None:
    app.button(key=f"FormSubmitter:{form}-{label}").click().run()
    assert not app.exception


def test_admin_edits_users_rules_templates_and_calendar(desk_db: str) -> None:
    app = _page("admin.py", "root")
    assert not app.exception
    users = app.tabs[0]
    users.text_input[0].set_value("nina")
    users.text_input[1].set_value("a long password")
    users.selectbox[0].set_value("agent")
    users.text_input[2].set_value("vk")
    _submit(app, "add_user", "Add user")
    assert [s.value for s in app.success] == ["User nina added."]

    rules = app.tabs[1]
    rules.text_input[0].set_value("vk")
    rules.text_input[1].set_value("vk")
    rules.text_input[5].set_value("refund, возврат")
    _submit(app, "add_rule", "Add rule")

    templates = app.tabs[3]
    templates.text_input[0].set_value("hello")
    templates.text_area[0].set_value("Hello {customer_name}")
    _submit(app, "save_template", "Save template")

    calendar = app.tabs[4]
    calendar.text_input[0].set_value("Asia/Yekaterinburg")
    calendar.time_input[2].set_value(time(17, 0))
    calendar.text_area[0].set_value("2026-12-31")
    _submit(app, "calendar", "Save calendar")
    assert "Calendar saved." in [s.value for s in app.success]

    engine = make_engine(desk_db)
    with make_session_factory(engine)() as session:
        assert authenticate(session, "nina", "a long password") is not None
        [rule] = session.scalars(select(RoutingRule))
        assert (rule.team, rule.source, rule.keywords) == ("vk", "vk", "refund, возврат")
        assert session.get(ReplyTemplate, "hello") is not None
        cal = load_calendar(session)
    engine.dispose()
    assert cal.tz == "Asia/Yekaterinburg" and cal.cutoff == time(17, 0)
    assert cal.holidays == frozenset({date(2026, 12, 31)})

    audit = _page("audit.py", "mira")
    assert not audit.exception
    frame = audit.dataframe[0].value
    assert {"user", "rule", "template", "calendar"} <= set(frame["Action"])
    assert set(frame["Who"]) == {"root"}


def test_other_roles_are_turned_away(desk_db: str) -> None:
    for page, user in (("admin.py", "mira"), ("admin.py", "alex"), ("audit.py", "alex")):
        app = _page(page, user)
        assert len(app.error) == 1 and "does not allow this page" in app.error[0].value
        assert not app.tabs and not app.dataframe


def test_a_disabled_user_is_signed_out(desk_db: str) -> None:
    admin = _page("admin.py", "root")
    admin.tabs[0].selectbox[1].set_value("alex")
    admin.tabs[0].toggle[0].set_value(False)
    _submit(admin, "toggle_user", "Save state")
    assert "alex is disabled." in [s.value for s in admin.success]
    queue = _page("queue.py", "alex")
    assert [w.value for w in queue.warning] == ["Please sign in."]


def test_admin_gives_a_brand_its_own_calendar_with_a_lunch_break(desk_db: str) -> None:
    engine = make_engine(desk_db)
    with make_session_factory(engine).begin() as session:
        save_scored_mentions(session, [scored_mention("p1", brand="Acme")])
    app = _page("admin.py", "root")
    calendar = app.tabs[4]
    official = calendar.dataframe[0].value  # the production calendar the desk works by
    assert "2026-12-31" in set(official["Date"]) and "2027-02-20" in set(official["Date"])
    row = official[official["Date"] == "2027-02-20"].iloc[0]
    assert (row["Official"], row["In force"]) == ("working day", "working day")
    calendar.selectbox(key="calendar_of").set_value("Acme").run()
    calendar = app.tabs[4]
    calendar.text_input[2].set_value("13:00-14:00")  # the breaks
    calendar.text_area[1].set_value("2027-02-27")  # an extra working Saturday for this brand only
    _submit(app, "calendar", "Save calendar")
    assert "Calendar saved." in [s.value for s in app.success]
    with make_session_factory(engine)() as session:
        own = load_own_calendar(session, "acme")
        desk = load_calendar(session)
        acme = load_calendar(session, "ACME")
    assert own is not None and own.periods == ((time(9, 0), time(13, 0)), (time(14, 0), time(18, 0)))
    assert acme.is_business_day(date(2027, 2, 27)) and not desk.is_business_day(date(2027, 2, 27))
    assert desk.periods == ((time(9, 0), time(18, 0)),)

    app.run()  # the form now shows the brand's stored calendar
    assert app.tabs[4].text_input[2].value == "13:00-14:00"
    app.tabs[4].text_input[2].set_value("17:00-19:00")  # a break past the end of the day
    _submit(app, "calendar", "Save calendar")
    assert any("Not a valid calendar" in e.value for e in app.error)

    app.button(key="calendar_reset").click().run()
    assert "Acme works by the desk calendar." in [s.value for s in app.success]
    with make_session_factory(engine)() as session:
        assert load_own_calendar(session, "Acme") is None
    engine.dispose()
