"""Who may do what beyond their own cases, on SQLite and PostgreSQL: dismissing a spike alert for
everyone (managers and admins; anyone else hides it for themselves) and the per-brand compensation
limits an admin sets (a larger compensation is refused with the limit)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from streamlit.testing.v1 import AppTest

from core.db.alerts import active_alerts, save_alerts
from core.db.engine import make_engine, make_session_factory, migrate
from core.db.models import Thread
from core.db.models_desk import Compensation
from core.settings import get_settings
from desk.services import audit
from desk.services.alert_dismissal import dismiss_alert, hide_alert, visible_alerts
from desk.services.auth import PermissionDenied
from desk.services.threads import (
    OverCompensationLimit,
    add_compensation,
    compensation_limits,
    set_compensation_limit,
)
from schemas import Alert
from schemas.base import utc_now
from tests.desk_support import actor, create_user, save
from tests.factories import scored_mention
from tests.support import run_cli

DESK_APP = Path(__file__).resolve().parents[2] / "desk" / "streamlit_app.py"


def _store_alert(sessions: sessionmaker[Session], brand: str = "acme") -> str:
    now = utc_now()
    alert = Alert(
        brand=brand, source="vk", topic=None, window_start=now - timedelta(minutes=20),
        window_end=now - timedelta(minutes=5), negative_count=9, total_count=12,
        negative_share=0.75, baseline_share=0.2, score=5.0,
    )  # fmt: skip
    with sessions.begin() as session:
        save_alerts(session, [alert])
    return alert.alert_id


def _banner(sessions: sessionmaker[Session], username: str) -> list[str]:
    with sessions() as session:
        return [row.alert_id for row in visible_alerts(session, username, utc_now())]


@pytest.mark.parametrize("role", ["agent", "brand_lead"])
def test_only_managers_and_admins_dismiss_an_alert_for_everyone(
    sessions: sessionmaker[Session], role: str
) -> None:
    alert_id = _store_alert(sessions)
    with sessions.begin() as session, pytest.raises(PermissionDenied) as refused:
        dismiss_alert(session, actor("alex", role), alert_id)
    assert str(refused.value) == (
        f"alex ({role}) may not dismiss a spike alert for everyone: only a manager or an admin may; "
        "hide it for yourself instead"
    )
    assert _banner(sessions, "maria") == [alert_id]

    with sessions.begin() as session:
        dismiss_alert(session, actor("maria", "manager"), alert_id)
    assert _banner(sessions, "maria") == [] and _banner(sessions, "alex") == []
    with sessions() as session:
        assert active_alerts(session, utc_now()) == []
        entry = audit.entries(session, actions=["alert_dismiss"])[0]
    assert (entry.actor, entry.detail["alert_id"], entry.detail["brand"]) == ("maria", alert_id, "acme")


def test_an_admin_dismisses_too(sessions: sessionmaker[Session]) -> None:
    alert_id = _store_alert(sessions)
    with sessions.begin() as session:
        dismiss_alert(session, actor("root", "admin"), alert_id)
    assert _banner(sessions, "anyone") == []


def test_an_agent_hides_an_alert_for_themselves_only(sessions: sessionmaker[Session]) -> None:
    first, second = _store_alert(sessions, "acme"), _store_alert(sessions, "globex")
    with sessions.begin() as session:
        hide_alert(session, actor("alex"), first)
    assert _banner(sessions, "alex") == [second]
    assert sorted(_banner(sessions, "anna")) == sorted([first, second])
    assert sorted(_banner(sessions, "maria")) == sorted([first, second]), "the managers still see it"
    with sessions.begin() as session:  # a second hide keeps the first
        hide_alert(session, actor("alex"), second)
    assert _banner(sessions, "alex") == []
    with sessions() as session:
        assert len(active_alerts(session, utc_now())) == 2, "hiding dismisses nothing"


def test_a_user_name_of_64_characters_can_hide(sessions: sessionmaker[Session]) -> None:
    alert_id = _store_alert(sessions)
    long_name = "u" * 64
    with sessions.begin() as session:
        hide_alert(session, actor(long_name), alert_id)
    assert _banner(sessions, long_name) == []


def _thread(sessions: sessionmaker[Session], brand: str | None) -> int:
    mention = scored_mention(brand=brand)
    save(sessions, [mention])
    with sessions() as session:
        return int(session.scalar(select(Thread.id).where(Thread.thread_key == mention.thread_key)) or 0)


def _compensations(sessions: sessionmaker[Session]) -> int:
    with sessions() as session:
        return int(session.scalar(select(func.count()).select_from(Compensation)) or 0)


def test_a_compensation_over_the_brand_limit_is_refused_with_the_limit(
    sessions: sessionmaker[Session],
) -> None:
    acme, globex = _thread(sessions, "acme"), _thread(sessions, "globex")
    with sessions.begin() as session:
        set_compensation_limit(session, actor("root", "admin"), "acme", 1000)
    with sessions.begin() as session, pytest.raises(OverCompensationLimit) as refused:
        add_compensation(session, actor("anna"), acme, "refund", 1500)
    assert str(refused.value).startswith("a compensation of 1500 is over the limit of 1000 for brand acme")
    assert _compensations(sessions) == 0
    with sessions.begin() as session:
        add_compensation(session, actor("anna"), acme, "refund", 1000)  # at the limit: accepted
        add_compensation(session, actor("anna"), globex, "refund", 50_000)  # globex has no limit
    assert _compensations(sessions) == 2


def test_the_default_limit_covers_brands_without_their_own(sessions: sessionmaker[Session]) -> None:
    acme, unbranded = _thread(sessions, "acme"), _thread(sessions, None)
    admin = actor("root", "admin")
    with sessions.begin() as session:
        set_compensation_limit(session, admin, "*", 200)
        set_compensation_limit(session, admin, "acme", 5000)
    with sessions.begin() as session:
        add_compensation(session, actor("anna"), acme, "bonus", 3000)
    with sessions.begin() as session, pytest.raises(OverCompensationLimit, match="over the limit of 200 for"):
        add_compensation(session, actor("anna"), unbranded, "bonus", 300)
    with sessions.begin() as session:
        set_compensation_limit(session, admin, "*", None)  # removed: anything goes again
        add_compensation(session, actor("anna"), unbranded, "bonus", 300)
    with sessions() as session:
        assert compensation_limits(session) == {"acme": 5000.0}
        changes = audit.entries(session, actions=["compensation_limit"])
    assert [(e.detail["brand"], e.detail["new"]) for e in reversed(changes)] == [
        ("*", 200),
        ("acme", 5000),
        ("*", None),
    ]


@pytest.mark.parametrize("role", ["agent", "manager", "brand_lead"])
def test_only_an_admin_sets_the_limits(sessions: sessionmaker[Session], role: str) -> None:
    with sessions.begin() as session, pytest.raises(PermissionDenied):
        set_compensation_limit(session, actor("someone", role), "acme", 10)
    with sessions() as session:
        assert compensation_limits(session) == {}


def test_the_cli_sets_and_lists_the_limits(database_url: str, sessions: sessionmaker[Session]) -> None:
    env = {"MD_DATABASE_URL": database_url}
    assert run_cli("compensation", "limit", "acme", "750", env=env).returncode == 0
    listed = run_cli("compensation", "limits", env=env)
    assert listed.returncode == 0 and listed.stdout.split() == ["acme", "750"]
    thread_id = _thread(sessions, "acme")
    with (
        sessions.begin() as session,
        pytest.raises(OverCompensationLimit, match="limit of 750 for brand acme"),
    ):
        add_compensation(session, actor("anna"), thread_id, "gift", 751)
    refused = run_cli("compensation", "limit", "acme", env=env)
    assert refused.returncode == 1 and "give either an AMOUNT or --remove" in refused.stderr
    assert run_cli("compensation", "limit", "acme", "--remove", env=env).returncode == 0
    with sessions() as session:
        assert compensation_limits(session) == {}


def _desk_as(username: str) -> AppTest:
    router = AppTest.from_file(str(DESK_APP), default_timeout=60)
    router.session_state["md_user"] = username
    return router.run()


def _spike_banners(router: AppTest) -> list[str]:
    return [e.value for e in router.error if "Negativity spike" in e.value]


def test_the_desk_banner_offers_hide_to_agents_and_dismiss_to_managers(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MD_DATABASE_URL", sqlite_url)
    get_settings.cache_clear()
    try:
        migrate(sqlite_url)
        create_user(sqlite_url, "mira", "manager", "support")
        create_user(sqlite_url, "alex", "agent", "support")
        create_user(sqlite_url, "anna", "agent", "support")
        engine = make_engine(sqlite_url)
        _store_alert(make_session_factory(engine))
        engine.dispose()

        agent = _desk_as("alex")
        assert not agent.exception and len(_spike_banners(agent)) == 1
        hide = next(b for b in agent.button if b.key and b.key.startswith("ack-"))
        assert hide.label == "Hide"
        hide.click().run()
        assert _spike_banners(agent) == []

        manager = _desk_as("mira")
        assert len(_spike_banners(manager)) == 1, "an agent's hide dismisses nothing"
        dismiss = next(b for b in manager.button if b.key and b.key.startswith("ack-"))
        assert dismiss.label == "Dismiss"
        dismiss.click().run()
        assert _spike_banners(manager) == []
        assert _spike_banners(_desk_as("anna")) == [], "dismissed for everyone"
    finally:
        get_settings.cache_clear()


def test_an_admin_sets_a_limit_on_the_admin_page(sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MD_DATABASE_URL", sqlite_url)
    get_settings.cache_clear()
    try:
        migrate(sqlite_url)
        create_user(sqlite_url, "root", "admin")
        page = AppTest.from_file(str(DESK_APP.parent / "app_pages" / "admin.py"), default_timeout=60)
        page.session_state["md_user"] = "root"
        page.run()
        assert not page.exception
        page.text_input(key="limit_brand").input("acme")
        page.number_input(key="limit_value").set_value(900.0)
        next(b for b in page.button if b.label == "Save limit").click().run()
        assert not page.exception
        assert [s.value for s in page.success] == ["Compensation limit of acme saved."], [
            e.value for e in page.error
        ]
        engine = make_engine(sqlite_url)
        with make_session_factory(engine)() as session:
            assert compensation_limits(session) == {"acme": 900.0}
        engine.dispose()
    finally:
        get_settings.cache_clear()
